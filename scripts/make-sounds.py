#!/usr/bin/env python3
"""Make the cashier's two sounds, ui/sounds/paid.wav and ui/sounds/declined.wav.

Synthesized here (not downloaded) so their origin is this file: run it again after a
change and commit the WAVs. Python's standard library only; the output is the same on
every run (no randomness, no timestamps in the files).

- paid: two bright rising notes (E6 then A6), short: heard over a busy counter, and
  unlike any phone's notification.
- declined: two low falling notes (A4 then E4), longer, a little rough (a square-ish
  tone): "look at the screen" without sounding like an alarm.
"""
import math
import struct
import wave
from pathlib import Path

RATE = 22050


def note(freq, seconds, harmonics, volume):
    n = int(RATE * seconds)
    attack, release = int(RATE * 0.006), int(RATE * 0.12)
    for i in range(n):
        t = i / RATE
        # Soft edges (no click), then an exponential decay like a struck bell.
        env = min(1.0, i / attack) * min(1.0, (n - i) / release) * math.exp(-3.0 * t / seconds)
        s = sum(a * math.sin(2 * math.pi * freq * k * t) for k, a in harmonics)
        yield volume * env * s


def silence(seconds):
    return (0.0 for _ in range(int(RATE * seconds)))


def write(path, samples):
    frames = b"".join(struct.pack("<h", max(-32767, min(32767, int(s * 32767)))) for s in samples)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(frames)


def main():
    out = Path(__file__).resolve().parent.parent / "ui" / "sounds"
    out.mkdir(parents=True, exist_ok=True)
    bell = [(1, 0.8), (2, 0.15), (3, 0.05)]
    write(out / "paid.wav", [*note(1318.5, 0.13, bell, 0.55), *note(1760.0, 0.30, bell, 0.55)])
    square = [(1, 0.7), (3, 0.2), (5, 0.1)]
    write(out / "declined.wav",
          [*note(440.0, 0.22, square, 0.5), *silence(0.04), *note(329.6, 0.38, square, 0.5)])


if __name__ == "__main__":
    main()
