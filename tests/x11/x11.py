#!/usr/bin/python3
"""What a person does and sees on the test X display, where WebDriver cannot go.

  x11.py DISPLAY close TITLE   ask the window whose title contains TITLE to close, as a
                               window manager's close button does (WM_DELETE_WINDOW);
                               prints its window id; exit 3 when no such window
  x11.py DISPLAY shot OUT.png  capture the whole screen from the X server (not from
                               WebKit, as WebDriver's screenshots are) into a PNG; prints
                               "WIDTHxHEIGHT colours=N" (N = distinct colours, capped at 4096:
                               1 means the screen is blank)
  x11.py DISPLAY keys          type on the X keyboard (XTEST), as a person at the counter
                               does: reads lines "TITLE<TAB>KEY KEY ..." from stdin (KEY an X
                               keysym name: 1, period, F3, Return, Escape), gives the window
                               whose title contains TITLE the input focus, presses and releases
                               each key, answers "ok" (or "no window ...") per line

Needs python3-xlib (Debian), which the test setup installs.
"""
import struct
import sys
import zlib

from Xlib import X, XK, display
from Xlib.ext import xtest
from Xlib.protocol import event


def windows(root):
    yield root
    for child in root.query_tree().children:
        yield from windows(child)


def title_of(d, w):
    try:
        p = w.get_full_property(d.intern_atom("_NET_WM_NAME"), d.intern_atom("UTF8_STRING"))
        if p is not None:
            return p.value.decode("utf-8", "replace")
        name = w.get_wm_name()
        return name.decode("latin-1") if isinstance(name, bytes) else (name or "")
    except Exception:  # a window gone while we walk the tree
        return ""


def close(d, title):
    protocols = d.intern_atom("WM_PROTOCOLS")
    delete = d.intern_atom("WM_DELETE_WINDOW")
    for w in windows(d.screen().root):
        if title in title_of(d, w):
            msg = event.ClientMessage(window=w, client_type=protocols,
                                      data=(32, [delete, X.CurrentTime, 0, 0, 0]))
            w.send_event(msg, event_mask=X.NoEventMask)
            d.flush()
            print(w.id)
            return 0
    print(f"no window titled {title!r}", file=sys.stderr)
    return 3


def find(d, title):
    for w in windows(d.screen().root):
        if title in title_of(d, w):
            return w
    return None


def keys(d):
    for line in sys.stdin:
        title, _, names = line.rstrip("\n").partition("\t")
        w = find(d, title)
        if w is None:
            print(f"no window titled {title!r}", flush=True)
            continue
        w.set_input_focus(X.RevertToParent, X.CurrentTime)
        for name in names.split():
            code = d.keysym_to_keycode(XK.string_to_keysym(name))
            if code == 0:
                print(f"no key {name!r}", flush=True)
                break
            xtest.fake_input(d, X.KeyPress, code)
            xtest.fake_input(d, X.KeyRelease, code)
        else:
            d.sync()
            print("ok", flush=True)
    return 0


def png(path, width, height, rows):
    def chunk(kind, data):
        c = kind + data
        return struct.pack(">I", len(data)) + c + struct.pack(">I", zlib.crc32(c) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + r for r in rows)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(raw, 6)))
        f.write(chunk(b"IEND", b""))


def shot(d, out):
    root = d.screen().root
    g = root.get_geometry()
    img = root.get_image(0, 0, g.width, g.height, X.ZPixmap, 0xFFFFFFFF)
    data = img.data if isinstance(img.data, bytes) else img.data.encode("latin-1")
    stride = len(data) // g.height  # 4 bytes a pixel, BGRX on a 24-bit Xvfb
    rows, colours = [], set()
    for y in range(g.height):
        line = data[y * stride:y * stride + 4 * g.width]
        rgb = bytearray(3 * g.width)
        rgb[0::3], rgb[1::3], rgb[2::3] = line[2::4], line[1::4], line[0::4]
        rows.append(bytes(rgb))
        if len(colours) < 4096 and y % 8 == 0:
            colours.update(line[i:i + 3] for i in range(0, len(line), 32))
    png(out, g.width, g.height, rows)
    print(f"{g.width}x{g.height} colours={min(len(colours), 4096)}")
    return 0


def main():
    if len(sys.argv) == 3 and sys.argv[2] == "keys":
        return keys(display.Display(sys.argv[1]))
    if len(sys.argv) != 4 or sys.argv[2] not in ("close", "shot"):
        print(__doc__, file=sys.stderr)
        return 2
    d = display.Display(sys.argv[1])
    return close(d, sys.argv[3]) if sys.argv[2] == "close" else shot(d, sys.argv[3])


if __name__ == "__main__":
    sys.exit(main())
