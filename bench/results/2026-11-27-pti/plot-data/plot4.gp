set terminal pngcairo size 960,540 noenhanced font "sans,10"
set datafile missing "?"
set output "/work/main/bench/results/2026-11-27-pti/scaling_ports.png"
set title "60 B frames (kpps) vs ports (2 busy)"
set logscale x
set offsets graph 0.05, graph 0.05, 0, 0
set xtics ("2" 2, "16" 16, "256" 256)
set yrange [0:*]
set xlabel "ports (2 busy)"
set grid
set key outside right
plot "/work/main/bench/results/2026-11-27-pti/plot-data/scaling_ports.dat" using 1:2:3:4 with yerrorlines title "Linux bridge", "/work/main/bench/results/2026-11-27-pti/plot-data/scaling_ports.dat" using 1:5:6:7 with yerrorlines title "tapswitch (tap)", "/work/main/bench/results/2026-11-27-pti/plot-data/scaling_ports.dat" using 1:8:9:10 with yerrorlines title "tapswitch (tap), --tap-io uring", "/work/main/bench/results/2026-11-27-pti/plot-data/scaling_ports.dat" using 1:11:12:13 with yerrorlines title "tapswitch (tap), --tap-io syscall", "/work/main/bench/results/2026-11-27-pti/plot-data/scaling_ports.dat" using 1:14:15:16 with yerrorlines title "tapswitch (net_tap)", "/work/main/bench/results/2026-11-27-pti/plot-data/scaling_ports.dat" using 1:17:18:19 with yerrorlines title "tapswitch (link, veth)", "/work/main/bench/results/2026-11-27-pti/plot-data/scaling_ports.dat" using 1:20:21:22 with yerrorlines title "OVS userspace", "/work/main/bench/results/2026-11-27-pti/plot-data/scaling_ports.dat" using 1:23:24:25 with yerrorlines title "OVS userspace + TSO", "/work/main/bench/results/2026-11-27-pti/plot-data/scaling_ports.dat" using 1:26:27:28 with yerrorlines title "DPDK net_tap io-fwd", "/work/main/bench/results/2026-11-27-pti/plot-data/scaling_ports.dat" using 1:29:30:31 with yerrorlines title "naive read/write fwd"
