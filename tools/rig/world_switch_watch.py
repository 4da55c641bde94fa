# world_switch_watch.py: run by l1-init inside the testvm L1 VM. Records
# every guest shutdown (triple fault) and failed VM entry that L1's KVM
# sees, with the state the emulated CPU left in the guest's VMCB, and says
# which of them are the rig's own fault.
#
# Why: a lost L2 guest shows up in its VMM only as "guest triple fault ...
# (rip 0xfff0)": KVM reinitializes the VMCB on a shutdown before the VMM
# hears of it. KVM's kvm_exit tracepoint fires before that, with the
# guest's rip and the event being delivered. When that rip is inside L1's
# own __svm_vcpu_run (the instruction after VMRUN), the emulated CPU stored
# L1's own state as the guest's and resumed the guest with it. No guest and
# no VMM can cause that (the VMCB is L1 kernel memory, and KVM never writes
# its own rip there): it is a fault of the rig's emulated SVM
# (docs/testing.md, "What the emulated CPU leaves in the VMCB").
#
# Each record is one line in OUT (the control share, which the command
# inside L1 sees at /run/testvm/ and the host after L1 ends) and in L1's
# kernel log:
#   testvm-rig-fault: ...          the rig's faults
#   testvm-guest-shutdown: ...     the other shutdowns and failed entries
#   testvm-emulation-failure: ...  an instruction L1's KVM could not
#                                  emulate, with the bytes it read there
# The last two are evidence for a reader, not a verdict.
# A guest's own reboot by triple fault (int3 with no IDT: vector 3 as a
# software interrupt, 0x80000403) is not recorded.
#
#   python3 world_switch_watch.py TRACEFS OUT
import os
import re
import signal
import sys

tracefs, out = sys.argv[1], sys.argv[2]
# l1-init has put the kvm_exit and kvm_emulate_insn events, filtered to
# the exits that lose a guest and the failed emulations, in the trace
# before the command started.


class Stop(Exception):
    pass


# SIGTERM (L1 ending): what the trace holds is written down, then the
# watcher ends; during its start-up only noted.
stopping = reading = False


def stop(signum, frame):
    global stopping
    stopping = True
    if reading:
        raise Stop()


signal.signal(signal.SIGTERM, stop)


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


# L1's __svm_vcpu_run: from its address to the next kvm_amd symbol's.
with open("/proc/kallsyms") as f:
    amd = sorted((int(a, 16), name) for a, _, name, *_ in
                 (l.split() for l in f if l.rstrip().endswith("[kvm_amd]")))
start = next((a for a, name in amd if name == "__svm_vcpu_run"), None)
end = next((a for a, _ in amd if start is not None and a > start), None)

# Every trace line starts with the task (a vCPU thread: "vcpu1-571",
# "CPU 1/KVM-268"), its process when known ("(    569)", "(-------)") and
# the CPU ("[001]").
task = r"^\s*(?P<task>.*?)(?:\s+\(\s*(?P<tgid>[0-9]+|-+)\))?\s+\[\d+\].*?"
# "... kvm_exit: vcpu 1 reason shutdown rip 0x... info1 0x... info2 0x...
#  intr_info 0x... error_code 0x..."
line_re = re.compile(task + r"kvm_exit: vcpu (?P<vcpu>\d+) reason (?P<reason>\S+) "
                     r"rip (?P<rip>0x[0-9a-f]+) .*"
                     r"intr_info (?P<intr>0x[0-9a-f]+) error_code (?P<err>0x[0-9a-f]+)")
# "... kvm_emulate_insn: 0:40f2e8:0f a2 (prot64) failed"
emulate_re = re.compile(task + r"kvm_emulate_insn: [0-9a-f]+:(?P<rip>[0-9a-f]+):"
                        r"(?P<insn>[0-9a-f ]*) \((?P<mode>[^)]*)\) failed")


def process_of(tid):
    """The thread's process while it is still there (the trace may not know it)."""
    try:
        with open(f"/proc/{tid}/status") as f:
            return next(l.split()[1] for l in f if l.startswith("Tgid:"))
    except (OSError, StopIteration):
        return "?"


def who(m):
    pid = m["tgid"] if (m["tgid"] or "").isdigit() else process_of(m["task"].rsplit("-", 1)[-1])
    return f"pid {pid} ({m['task']})"


def emulation_failure(m):
    # Evidence, not proof: the instruction bytes L1's KVM read at the rip
    # where the guest exited (on the rig, a CPUID it must step over).
    return (f"testvm-emulation-failure: {who(m)}: KVM could not emulate the instruction at "
            f"rip 0x{m['rip']} ({m['mode']}); the bytes it read there: {m['insn'].strip() or 'none'}")


def record(m):
    if m["reason"] == "shutdown" and m["intr"] == "0x80000403":
        return None  # the guest rebooting
    what = "guest shutdown" if m["reason"] == "shutdown" else f"failed VM entry ({m['reason']})"
    vcpu = f"{who(m)} vCPU {m['vcpu']}"
    rip = int(m["rip"], 16)
    if start is not None and end is not None and start <= rip < end:
        return (f"testvm-rig-fault: {vcpu}: {what} with L1's own state (rip {m['rip']} in "
                f"__svm_vcpu_run) resumed as the guest; delivering {m['intr']} error {m['err']}")
    return (f"testvm-guest-shutdown: {vcpu}: {what} at rip {m['rip']}; "
            f"delivering {m['intr']} error {m['err']}")


def handle(lines):
    for raw in lines:
        line = raw.decode(errors="replace")
        m, e = line_re.match(line), emulate_re.match(line)
        text = record(m) if m else emulation_failure(e) if e else None
        if not text:
            continue
        with open(out, "a") as f:
            f.write(text + "\n")
        try:
            write("/dev/kmsg", text + "\n")
        except OSError:
            pass


# One read at a time, each returning what the trace has (a reader through
# splice, as cat's sendfile is, holds records back until a page is full).
# On SIGTERM (L1 ending) what the trace still holds is written down first.
pipe = os.open(os.path.join(tracefs, "trace_pipe"), os.O_RDONLY)
pending = b""
# l1-init waits for this before it stops the watcher.
write(out + ".ready", "")
try:
    reading = True
    if stopping:
        raise Stop()
    while True:
        pending += os.read(pipe, 65536)
        *lines, pending = pending.split(b"\n")
        handle(lines)
except Stop:
    os.set_blocking(pipe, False)
    try:
        while chunk := os.read(pipe, 65536):
            pending += chunk
    except BlockingIOError:
        pass
    handle(pending.split(b"\n"))
