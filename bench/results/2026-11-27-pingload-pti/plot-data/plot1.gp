set terminal pngcairo size 960,540 noenhanced font "sans,10"
set datafile missing "?"
set output "bench/results/2026-11-27-pingload-pti/latency-load.png"
set title "Ping round trip during one TCP stream pa -> pb (µs)"
set style data histogram
set style histogram errorbars gap 2 lw 1
set style fill solid 0.7 border -1
set yrange [0:*]
set grid ytics
set key top left
plot "bench/results/2026-11-27-pingload-pti/plot-data/latency-load.dat" using 2:3:4:xtic(1) title "Linux bridge", "bench/results/2026-11-27-pingload-pti/plot-data/latency-load.dat" using 5:6:7 title "tapswitch (tap)", "bench/results/2026-11-27-pingload-pti/plot-data/latency-load.dat" using 8:9:10 title "tapswitch (tap), --poll busy"
