#!/usr/bin/env python3
"""Writes the binary seed inputs of the fuzz targets whose input is not text
(virtqueue, virtio transport snapshot state, vsock packets, FUSE requests, ttrpc frames, agent requests, the
shim's command line and Create request) into their corpus directories. Run
once from the repository root when a seed's format changes; the output is
committed. Agent and ttrpc messages are encoded by protoc from text format,
so their field numbers come from the .proto files themselves."""
import struct
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def write(corpus, name, data):
    d = ROOT / corpus
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data)


def protoc(proto, message, text):
    return subprocess.run(["protoc", "-I", str(ROOT), "-I", "/usr/include", f"--encode={message}",
                           proto], input=text.encode(), capture_output=True, check=True).stdout


def q(s):
    """A text-format string literal."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def pb_bytes(field, value):
    """One length-delimited protobuf field, for the containerd message."""
    key, n, out = field << 3 | 2, len(value), b""
    while True:
        out += bytes([n & 0x7F | (0x80 if n > 0x7F else 0)])
        n >>= 7
        if not n:
            break
    return bytes([key]) + out + value


# Virtqueue: control byte (size 2^(c&7), 0x10/0x20 features), then guest RAM
# from 0: descriptor table, avail ring, used ring packed as the fuzzer lays
# them out; buffers lie beyond, in zeroed RAM.
def queue(ctl, descs, heads):
    size = (1 << (ctl & 7)) + (3 if ctl & 0x80 else 0)
    avail = 16 * size
    used = (avail + 6 + 2 * size + 3) & ~3
    ram = bytearray(used + 6 + 8 * size)
    for i, (addr, length, flags, nxt) in enumerate(descs):
        struct.pack_into("<QIHH", ram, 16 * i, addr, length, flags, nxt)
    struct.pack_into("<HH", ram, avail, 0, len(heads))
    for i, h in enumerate(heads):
        struct.pack_into("<H", ram, avail + 4 + 2 * i, h)
    return bytes([ctl]) + bytes(ram)


NEXT, WRITE, INDIRECT = 1, 2, 4
write("vmm/virtio/fuzz/corpus", "read_write_chain",
      queue(0x02, [(0x1000, 16, NEXT, 1), (0x1100, 32, WRITE, 0)], [0]))
write("vmm/virtio/fuzz/corpus", "two_chains_event_idx",
      queue(0x12, [(0x1000, 8, 0, 0), (0x1200, 64, WRITE, 0)], [0, 1]))
write("vmm/virtio/fuzz/corpus", "indirect",
      queue(0x01, [(0x2000, 32, INDIRECT, 0)], [0]))



# virtio-fs relay: control byte (0x01 EVENT_IDX, 0x80 raw used entries),
# guest RAM from 0 (16 descriptors, avail ring at 0x100, used ring at 0x200)
# up to 0x400, then the server's reply lengths.
def relay(ctl, descs, heads, replies):
    ram = bytearray(0x400)
    for i, (addr, length, flags, nxt) in enumerate(descs):
        struct.pack_into("<QIHH", ram, 16 * i, addr, length, flags, nxt)
    struct.pack_into("<HH", ram, 0x100, 0, len(heads))
    for i, h in enumerate(heads):
        struct.pack_into("<H", ram, 0x104 + 2 * i, h)
    return bytes([ctl]) + bytes(ram) + b"".join(struct.pack("<H", r) for r in replies)


RELAY = "vmm/devices/fs/fuzz/relay_corpus"
write(RELAY, "request_and_reply",
      relay(0, [(0x1000, 48, NEXT, 1), (0x2000, 4096, WRITE, 0)], [0], [100]))
write(RELAY, "two_chains_event_idx_long_reply_room",
      relay(1, [(0x1000, 48, 0, 0), (0x3000, 64, NEXT, 2), (0x4000, 80000, WRITE, 0)], [0, 1],
            [0, 200]))
write(RELAY, "raw_used_entries",
      relay(0x80, [(0x1000, 48, NEXT, 1), (0x2000, 4096, WRITE, 0)], [0], [3]))


def cbor(v):
    """CBOR (RFC 8949) of None, bools, unsigned ints, strings, lists, dicts."""
    def head(major, n):
        for size, fmt in ((1, ">B"), (2, ">H"), (4, ">I"), (8, ">Q")):
            if n < 24:
                return bytes([major << 5 | n])
            if n < 1 << (8 * size):
                return bytes([major << 5 | (23 + size.bit_length())]) + struct.pack(fmt, n)
    if v is None or isinstance(v, bool):
        return {None: b"\xf6", True: b"\xf5", False: b"\xf4"}[v]
    if isinstance(v, int):
        return head(0, v)
    if isinstance(v, str):
        return head(3, len(v.encode())) + v.encode()
    if isinstance(v, list):
        return head(4, len(v)) + b"".join(cbor(x) for x in v)
    return head(5, len(v)) + b"".join(cbor(k) + cbor(x) for k, x in v.items())


# Virtio transport snapshot state (vmm/virtio/mmio_transport_state.h) for the
# fuzzer's fixed device: queues of at most 256, 16 and 1, device feature 5.
def ring(size, base, pos):
    return {"size": size, "ready": True, "desc_table": base, "avail_ring": base + 16 * size,
            "used_ring": (base + 16 * size + 6 + 2 * size + 3) & ~3, "next_avail": pos,
            "next_used": pos, "signalled_used": pos, "signalled_valid": pos != 0}


def transport(status, features, queues, interrupt=0, generation=0):
    return {"device_type": 19, "status": status, "device_features_sel": 1,
            "driver_features_sel": 1, "driver_features": features, "queue_sel": 2,
            "interrupt_status": interrupt, "config_generation": generation,
            "activated": bool(status & 4), "queues": queues, "device": None}


V1, EVENT_IDX, INDIRECT_DESC = 1 << 32, 1 << 29, 1 << 28
IDLE = transport(3, 0, [{"size": 256, "ready": False}, {"size": 16, "ready": False},
                        {"size": 1, "ready": False}], generation=2)
STATE = "vmm/virtio/fuzz/transport_state_corpus"
write(STATE, "running", cbor(transport(
    15, V1 | EVENT_IDX | INDIRECT_DESC | 1 << 5,
    [ring(256, 0x10000, 7), ring(16, 0x20000, 0), {"size": 1, "ready": False}], interrupt=1)))
write(STATE, "idle", cbor(IDLE))
write(STATE, "wrapped", cbor(transport(
    15, V1, [ring(256, 0x40000, 65535), ring(8, 0x30000, 3), ring(1, 0x50000, 1)], interrupt=3)))
write(STATE, "slots", cbor([{"device_type": 19, "transport": IDLE}] * 2))


# vsock: segment seed, then a guest TX chain (header + payload).
def vsock(op, payload=b"", seed=7):
    hdr = struct.pack("<QQIIIHHIII", 3, 2, 1024, 5000, len(payload), 1, op, 0, 65536, 0)
    return bytes([seed]) + hdr + payload


write("vmm/devices/vsock/fuzz/corpus", "request", vsock(1))
write("vmm/devices/vsock/fuzz/corpus", "rw_payload", vsock(5, b"hello guest", seed=3))
write("vmm/devices/vsock/fuzz/corpus", "credit_update", vsock(6, seed=60))
write("vmm/devices/vsock/fuzz/corpus", "connect_line", b"CONNECT 1024")


# FUSE: segment seeds and reply size, then one request (fuse_in_header with
# the length fixed up by the fuzzer: seed bit 0x80).
def fuse(opcode, nodeid, args, out_size=4096):
    hdr = struct.pack("<IIQQIIIHH", 40 + len(args), opcode, 1, nodeid, 0, 0, 1, 0, 0)
    return bytes([0x80 | 40, 17]) + struct.pack(">H", out_size) + hdr + args


write("vmm/fuse/fuzz/corpus", "lookup_d", fuse(1, 1, b"d\0"))
write("vmm/fuse/fuzz/corpus", "getattr_root", fuse(3, 1, struct.pack("<IIQ", 0, 0, 0)))
write("vmm/fuse/fuzz/corpus", "opendir_root", fuse(27, 1, struct.pack("<II", 0, 0)))
write("vmm/fuse/fuzz/corpus", "readdir_root",
      fuse(28, 1, struct.pack("<QQIIQII", 0, 0, 4096, 0, 0, 0, 0)))
write("vmm/fuse/fuzz/corpus", "statfs_tiny_reply", fuse(17, 1, b"", out_size=8))


# ttrpc: one connection's bytes, frames of a 10-byte big-endian header and a
# Request (or Response) message.
def frame(stream, kind, payload):
    return struct.pack(">IIBB", len(payload), stream, kind, 0) + payload


def request(service, method, payload="", extra=""):
    return protoc("common/ttrpc/ttrpc.proto", "vmrt.ttrpc.wire.Request",
                  f"service: {q(service)} method: {q(method)} payload: {q(payload)} {extra}")


write("common/ttrpc/fuzz/corpus", "echo", frame(1, 1, request("s", "echo", "hi")))
write("common/ttrpc/fuzz/corpus", "echo_fail_metadata",
      frame(1, 1, request("s", "echo", "x", 'timeout_nano: 1000000 metadata { key: "k" value: "v" }'))
      + frame(3, 1, request("s", "fail")))
write("common/ttrpc/fuzz/corpus", "unknown_method", frame(5, 1, request("nope", "none")))
write("common/ttrpc/fuzz/corpus", "response",
      frame(2, 2, protoc("common/ttrpc/ttrpc.proto", "vmrt.ttrpc.wire.Response",
                         'status { code: 5 message: "not found" } payload: "p"')))

# Agent requests: the fuzzer's selector byte (its kRequests order), then the
# message.
AGENT = ["CreateSandboxRequest", "CreateContainerRequest", "ExecProcessRequest",
         "UpdateContainerRequest", "SignalProcessRequest", "StartContainerRequest",
         "RemoveContainerRequest", "StatsContainerRequest", "WaitProcessRequest",
         "WriteStdinRequest", "ReadOutputRequest", "ResizeTerminalRequest"]
SPEC = (ROOT / "agent/container/fuzz/corpus/minimal.json").read_text().strip()


def agent(name, message, text):
    data = protoc("proto/agent.proto", f"vmrt.agent.v1.{message}", text)
    write("agent/service/fuzz/corpus", name, bytes([AGENT.index(message)]) + data)


agent("create_sandbox", "CreateSandboxRequest", """
  hostname: "pod-1" dns_servers: "10.96.0.10" dns_searches: "svc.cluster.local"
  dns_options: "ndots:5" shared_fs { mount_tag: "vmrtfs" mount_point: "/run/vmrt/shared" }
  interfaces { name: "eth0" mac: "02:00:0a:58:00:05" mtu: 1500
               addresses { ip: "10.88.0.5" prefix_len: 16 } addresses { ip: "fd00::5" prefix_len: 64 } }
  routes { destination: "10.88.0.0/16" device: "eth0" }
  routes { gateway: "10.88.0.1" }
  routes { destination: "::/0" gateway: "fd00::1" device: "eth0" source: "fd00::5" scope: 0 }""")
agent("create_container", "CreateContainerRequest",
      f'container_id: "c1" oci_spec_json: {q(SPEC)} rootfs: "c1/rootfs" '
      'stdio { terminal: true open_stdin: true } overlay_rootfs: true')
agent("exec_process", "ExecProcessRequest",
      'container_id: "c1" exec_id: "e1" oci_process_json: '
      + q('{"args":["sh"],"cwd":"/","env":["A=1"],"user":{"uid":0,"gid":0}}'))
agent("update_container", "UpdateContainerRequest",
      'container_id: "c1" resources_json: '
      + q('{"memory":{"limit":67108864},"cpu":{"quota":20000,"period":100000},"pids":{"limit":10}}'))
agent("signal_all", "SignalProcessRequest", 'container_id: "c1" signal: 9 all: true')
agent("signal_exec", "SignalProcessRequest", 'container_id: "c1" exec_id: "e1" signal: 64')
agent("start", "StartContainerRequest", 'container_id: "c1"')
agent("remove", "RemoveContainerRequest", 'container_id: "c1" force: true')
agent("stats", "StatsContainerRequest", 'container_id: "A.b_c-9"')
agent("wait", "WaitProcessRequest", 'container_id: "c1" exec_id: "e1"')
agent("write_stdin", "WriteStdinRequest", 'container_id: "c1" data: "input\\n"')
agent("read_output", "ReadOutputRequest", 'container_id: "c1" stream: STDERR')
agent("resize", "ResizeTerminalRequest", 'container_id: "c1" rows: 24 cols: 80')

# Shim: even first byte and NUL-separated arguments, or odd first byte and
# a CreateTaskRequest (id, bundle, rootfs mounts).
SHIM = "shim/fuzz/corpus"
write(SHIM, "args_start", b"\0" + b"\0".join(
    [b"-namespace", b"k8s.io", b"-address", b"/run/containerd/containerd.sock",
     b"-publish-binary", b"/usr/bin/containerd", b"-id", b"pod1", b"-debug", b"start"]))
write(SHIM, "args_equals_delete", b"\2" + b"\0".join(
    [b"--namespace=default", b"-id=c1", b"--bundle", b"/run/b", b"-debug=false", b"delete"]))
write(SHIM, "args_version", b"\4-v")


def mount(kind, source, options):
    return pb_bytes(1, kind) + pb_bytes(2, source) + b"".join(pb_bytes(4, o) for o in options)


write(SHIM, "create_overlay", b"\1" + pb_bytes(1, b"c1") + pb_bytes(2, b"/run/b/c1") + pb_bytes(
    3, mount(b"overlay", b"overlay", [b"index=off", b"workdir=/w", b"upperdir=/u", b"lowerdir=/l1:/l2"])))
write(SHIM, "create_bind_ro", b"\3" + pb_bytes(1, b"c2") + pb_bytes(
    3, mount(b"bind", b"/snap/7/fs", [b"rbind", b"ro", b"nosuid", b"rw", b"defaults"])))
