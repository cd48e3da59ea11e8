set terminal pngcairo size 960,540 noenhanced font "sans,10"
set datafile missing "?"
set output "/work/main/bench/results/2026-11-27-pti/scaling_fdb.png"
set title "60 B frames (kpps) vs learned MACs"
set logscale x
set offsets graph 0.05, graph 0.05, 0, 0
set xtics ("1000" 1000, "65536" 65536, "1000000" 1000000)
set yrange [0:*]
set xlabel "learned MACs"
set grid
set key outside right
plot "/work/main/bench/results/2026-11-27-pti/plot-data/scaling_fdb.dat" using 1:2:3:4 with yerrorlines title "Linux bridge", "/work/main/bench/results/2026-11-27-pti/plot-data/scaling_fdb.dat" using 1:5:6:7 with yerrorlines title "tapswitch (tap)"
