set terminal pngcairo size 960,540 noenhanced font "sans,10"
set datafile missing "?"
set output "/work/main/bench/results/2026-11-27-evening/tcp.png"
set title "TCP throughput (Gbit/s)"
set style data histogram
set style histogram errorbars gap 2 lw 1
set style fill solid 0.7 border -1
set yrange [0:*]
set grid ytics
set key top left
plot "/work/main/bench/results/2026-11-27-evening/plot-data/tcp.dat" using 2:3:4:xtic(1) title "Linux bridge", "/work/main/bench/results/2026-11-27-evening/plot-data/tcp.dat" using 5:6:7 title "tapswitch (tap)", "/work/main/bench/results/2026-11-27-evening/plot-data/tcp.dat" using 8:9:10 title "tapswitch (tap), --poll busy", "/work/main/bench/results/2026-11-27-evening/plot-data/tcp.dat" using 11:12:13 title "tapswitch (net_tap)"
