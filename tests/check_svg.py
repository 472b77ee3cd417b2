#!/usr/bin/env python3
"""check_svg.py KIND FILE N - an independent check of an SVG tinychar drew:
it must parse as XML (xml.etree), have an <svg> root in the SVG namespace,
and hold N data points:
  loss       a <polyline class="train"> and one class="val", N points each,
             N circle markers of each class, and axis labels
  embedding  N <g class="point"> groups, each with a non-empty, distinct label
  lrfind     <polyline class="loss"> and class="smoothed", N points each,
             x increasing, a suggested-lr line and the log-scale axis label
Exits 0 if so, 1 with the reason on stderr otherwise."""
import sys
import xml.etree.ElementTree as ET

SVG = "{http://www.w3.org/2000/svg}"


def fail(msg):
    sys.stderr.write("check_svg: %s: %s\n" % (sys.argv[2], msg))
    sys.exit(1)


def main():
    kind, path, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        fail("not well-formed XML: %s" % e)
    if root.tag != SVG + "svg":
        fail("root element is %s, not svg" % root.tag)
    texts = ["".join(t.itertext()) for t in root.iter(SVG + "text")]
    if kind == "loss":
        for cls in ("train", "val"):
            lines = [e for e in root.iter(SVG + "polyline") if e.get("class") == cls]
            if len(lines) != 1:
                fail("%d polylines of class %s, want 1" % (len(lines), cls))
            pts = lines[0].get("points").split()
            if len(pts) != n:
                fail("%s line has %d points, want %d" % (cls, len(pts), n))
            marks = [e for e in root.iter(SVG + "circle") if e.get("class") == cls]
            if len(marks) != n:
                fail("%d %s markers, want %d" % (len(marks), cls, n))
        for want in ("step", "loss (nats per character)"):
            if want not in texts:
                fail("no axis label %r" % want)
        if not any(t.startswith("val loss (best") for t in texts):
            fail("no legend entry for the val loss")
    elif kind == "embedding":
        groups = [g for g in root.iter(SVG + "g") if g.get("class") == "point"]
        if len(groups) != n:
            fail("%d points, want %d" % (len(groups), n))
        labels = ["".join(g.find(SVG + "text").itertext()) for g in groups]
        if any(not lab for lab in labels):
            fail("a point without a label")
        if len(set(labels)) != n:
            fail("labels are not distinct: %s" % labels)
    elif kind == "lrfind":
        for cls in ("loss", "smoothed"):
            lines = [e for e in root.iter(SVG + "polyline") if e.get("class") == cls]
            if len(lines) != 1:
                fail("%d polylines of class %s, want 1" % (len(lines), cls))
            xs = [float(p.split(",")[0]) for p in lines[0].get("points").split()]
            if len(xs) != n:
                fail("%s line has %d points, want %d" % (cls, len(xs), n))
            if any(b <= a for a, b in zip(xs, xs[1:])):
                fail("%s line: x does not increase with the learning rate" % cls)
        if not [e for e in root.iter(SVG + "line") if e.get("class") == "suggested"]:
            fail("no suggested learning-rate line")
        if "learning rate (log scale)" not in texts:
            fail("no axis label 'learning rate (log scale)'")
    else:
        fail("unknown kind %s" % kind)


main()
