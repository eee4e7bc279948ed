#!/usr/bin/python3
"""A file manager's drag source for the drop test (tests/tests/import.rs): a small GTK 3
window at X,Y that offers FILE as text/uri-list when dragged, as Files or Thunar do.
Prints "ready" once mapped and "dropped" when the drag ends; exits a second later (or
after a minute without a drag).

Usage: drag-source.py FILE X Y   (needs python3-gi and gir1.2-gtk-3.0)
"""

import pathlib
import sys

import gi

gi.require_version("Gtk", "3.0")
gi.require_version("Gdk", "3.0")
from gi.repository import Gdk, GLib, Gtk  # noqa: E402

uri = pathlib.Path(sys.argv[1]).resolve().as_uri()
window = Gtk.Window(title="tillkey-drag-source")
window.set_default_size(120, 120)
window.move(int(sys.argv[2]), int(sys.argv[3]))
button = Gtk.Button(label="shop.env")
window.add(button)
button.drag_source_set(Gdk.ModifierType.BUTTON1_MASK, [], Gdk.DragAction.COPY)
button.drag_source_add_uri_targets()
button.connect("drag-data-get", lambda _w, _c, data, _i, _t: data.set_uris([uri]))


def ended(*_args):
    print("dropped", flush=True)
    GLib.timeout_add(1000, Gtk.main_quit)


button.connect("drag-end", ended)
window.connect("destroy", Gtk.main_quit)
# Never left behind: a drag that never starts (or ends) gives up after a minute, and the
# test, waiting for a line, then sees the end of the output.
GLib.timeout_add_seconds(60, Gtk.main_quit)
window.connect("map-event", lambda *_a: print("ready", flush=True))
window.show_all()
Gtk.main()
