set terminal pngcairo size 960,540 noenhanced font "sans,10"
set datafile missing "?"
set output "/tmp/exp/bq_ts_q1/scaling_ports.png"
set title "60 B frames (kpps) vs ports (2 busy)"
set logscale x
set offsets graph 0.05, graph 0.05, 0, 0
set xtics ("2" 2, "16" 16, "256" 256)
set yrange [0:*]
set xlabel "ports (2 busy)"
set grid
set key outside right
plot "/tmp/exp/bq_ts_q1/plot-data/scaling_ports.dat" using 1:2:3:4 with yerrorlines title "tapswitch (tap)"
