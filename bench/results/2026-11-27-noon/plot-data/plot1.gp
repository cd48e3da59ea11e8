set terminal pngcairo size 960,540 noenhanced font "sans,10"
set datafile missing "?"
set output "/work/main/bench/results/2026-11-27-noon/frames.png"
set title "Frame rate pa -> pb (kpps)"
set style data histogram
set style histogram errorbars gap 2 lw 1
set style fill solid 0.7 border -1
set yrange [0:*]
set grid ytics
set key top left
plot "/work/main/bench/results/2026-11-27-noon/plot-data/frames.dat" using 2:3:4:xtic(1) title "Linux bridge", "/work/main/bench/results/2026-11-27-noon/plot-data/frames.dat" using 5:6:7 title "tapswitch (tap)", "/work/main/bench/results/2026-11-27-noon/plot-data/frames.dat" using 8:9:10 title "tapswitch (tap), --wake-cpu any", "/work/main/bench/results/2026-11-27-noon/plot-data/frames.dat" using 11:12:13 title "tapswitch (tap), --wake-cpu home", "/work/main/bench/results/2026-11-27-noon/plot-data/frames.dat" using 14:15:16 title "tapswitch (tap), 2 workers", "/work/main/bench/results/2026-11-27-noon/plot-data/frames.dat" using 17:18:19 title "tapswitch (tap), --poll busy", "/work/main/bench/results/2026-11-27-noon/plot-data/frames.dat" using 20:21:22 title "tapswitch (tap), --tap-io uring", "/work/main/bench/results/2026-11-27-noon/plot-data/frames.dat" using 23:24:25 title "tapswitch (tap), --poll busy, --tap-io uring", "/work/main/bench/results/2026-11-27-noon/plot-data/frames.dat" using 26:27:28 title "tapswitch (net_tap)", "/work/main/bench/results/2026-11-27-noon/plot-data/frames.dat" using 29:30:31 title "tapswitch (link, veth)", "/work/main/bench/results/2026-11-27-noon/plot-data/frames.dat" using 32:33:34 title "tapswitch (link, veth), ring=off", "/work/main/bench/results/2026-11-27-noon/plot-data/frames.dat" using 35:36:37 title "tapswitch (link, veth), 2 workers", "/work/main/bench/results/2026-11-27-noon/plot-data/frames.dat" using 38:39:40 title "OVS userspace", "/work/main/bench/results/2026-11-27-noon/plot-data/frames.dat" using 41:42:43 title "OVS userspace + TSO", "/work/main/bench/results/2026-11-27-noon/plot-data/frames.dat" using 44:45:46 title "DPDK net_tap io-fwd", "/work/main/bench/results/2026-11-27-noon/plot-data/frames.dat" using 47:48:49 title "naive read/write fwd"
