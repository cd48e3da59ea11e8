"""What every system under test provides."""
import contextlib


class System:
    key = ""           # stable id in the raw data: "bridge", "tapswitch-tap", ...
    label = ""         # name in tables and plots
    tag = ""           # two letters in namespace and interface names
    max_ports = 2      # ports it can join (0: no limit)
    ports_scaling = True  # takes part in the ports study
    fdb_scaling = False

    def unavailable(self, settings):
        """None if the system can run here, else the reason it is skipped."""
        return None

    def describe(self, settings):
        """One line for the report: how the system is set up and pinned."""
        return ""

    @contextlib.contextmanager
    def start(self, settings, log_prefix, nports=2, fdb_size=0, workers=1):
        """Brings the system up with `nports` ports, two of them (a, b) plugged into namespaces
        pa and pb and the rest idle in pc; yields a netns.Topology; tears everything down on
        exit, even after an error."""
        raise NotImplementedError
        yield
