set terminal pngcairo size 960,540 noenhanced font "sans,10"
set datafile missing "?"
set output "bench/results/2026-11-26-evening/frames.png"
set title "Frame rate pa -> pb (kpps)"
set style data histogram
set style histogram errorbars gap 2 lw 1
set style fill solid 0.7 border -1
set yrange [0:*]
set grid ytics
set key top left
plot "bench/results/2026-11-26-evening/plot-data/frames.dat" using 2:3:4:xtic(1) title "Linux bridge", "bench/results/2026-11-26-evening/plot-data/frames.dat" using 5:6:7 title "tapswitch (tap)", "bench/results/2026-11-26-evening/plot-data/frames.dat" using 8:9:10 title "tapswitch (tap), --wake-cpu home", "bench/results/2026-11-26-evening/plot-data/frames.dat" using 11:12:13 title "tapswitch (tap), 2 workers", "bench/results/2026-11-26-evening/plot-data/frames.dat" using 14:15:16 title "tapswitch (tap), --poll busy", "bench/results/2026-11-26-evening/plot-data/frames.dat" using 17:18:19 title "tapswitch (tap), --tap-io uring", "bench/results/2026-11-26-evening/plot-data/frames.dat" using 20:21:22 title "tapswitch (tap), --poll busy, --tap-io uring", "bench/results/2026-11-26-evening/plot-data/frames.dat" using 23:24:25 title "tapswitch (net_tap)", "bench/results/2026-11-26-evening/plot-data/frames.dat" using 26:27:28 title "OVS userspace", "bench/results/2026-11-26-evening/plot-data/frames.dat" using 29:30:31 title "OVS userspace + TSO", "bench/results/2026-11-26-evening/plot-data/frames.dat" using 32:33:34 title "DPDK net_tap io-fwd", "bench/results/2026-11-26-evening/plot-data/frames.dat" using 35:36:37 title "naive read/write fwd"
