set terminal pngcairo size 960,540 noenhanced font "sans,10"
set datafile missing "?"
set output "/work/main/bench/results/2026-11-27-pti/scaling_workers.png"
set title "60 B frames (kpps) vs workers"
set offsets graph 0.05, graph 0.05, 0, 0
set xtics ("1" 1, "2" 2)
set yrange [0:*]
set xlabel "workers"
set grid
set key outside right
plot "/work/main/bench/results/2026-11-27-pti/plot-data/scaling_workers.dat" using 1:2:3:4 with yerrorlines title "tapswitch (tap)"
