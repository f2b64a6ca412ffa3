#!/usr/bin/env python3
# A pretend serial printer on a real pseudo-terminal, so the serial transport is tested
# through the real serialport native binding and the kernel's tty layer.
# Prints the slave path on the first line of stdout, appends every byte the port sends to
# the capture file, answers DLE EOT n like an Epson printer, and takes new states as JSON
# lines on stdin ({"paperOut": true}), acknowledging each with "ok".
import json, os, select, sys, tty

capture_path = sys.argv[1]
state = {"online": True, "paperOut": False, "paperLow": False, "coverOpen": False, "silent": False}

def reply(n):
    offline = (not state["online"]) or state["paperOut"] or state["coverOpen"]
    if n == 1:
        return 0x12 | (0x08 if offline else 0)
    if n == 2:
        return 0x12 | (0x04 if state["coverOpen"] else 0) | (0x20 if state["paperOut"] else 0)
    if n == 4:
        low = state["paperLow"] or state["paperOut"]
        return 0x12 | (0x0C if low else 0) | (0x60 if state["paperOut"] else 0)
    return 0x12

master, slave = os.openpty()
tty.setraw(slave)
tty.setraw(master)
print(os.ttyname(slave), flush=True)

tail = b""
with open(capture_path, "ab", buffering=0) as capture:
    while True:
        ready, _, _ = select.select([master, sys.stdin], [], [])
        if sys.stdin in ready:
            line = sys.stdin.readline()
            if not line:
                break
            state.update(json.loads(line))
            print("ok", flush=True)
        if master in ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            capture.write(chunk)
            window = tail + chunk
            out = bytes(reply(window[i + 2]) for i in range(len(window) - 2)
                        if window[i] == 0x10 and window[i + 1] == 0x04)
            tail = window[-2:]
            if out and not state["silent"]:
                os.write(master, out)
