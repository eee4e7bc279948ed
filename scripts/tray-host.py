#!/usr/bin/python3
"""A minimal tray host for README screenshots under Xvfb (no desktop panel there).

Owns org.kde.StatusNotifierWatcher on the session bus, waits for Tillkey's tray item to
register, then renders the item's real exported menu (com.canonical.dbusmenu) with
libdbusmenu-gtk3, the library GTK desktop panels use, and pops it up at the top left of
the screen, as a panel would under its icon. Also draws the item's icon (IconPixmap) and
tooltip in a small bar there. Used by scripts/screenshot-tray.sh; needs python3-gi and
gir1.2-dbusmenu-gtk3-0.4.
"""

import sys

import gi

gi.require_version("Gtk", "3.0")
gi.require_version("DbusmenuGtk3", "0.4")
from gi.repository import DbusmenuGtk3, GdkPixbuf, Gio, GLib, Gtk  # noqa: E402

WATCHER_XML = """
<node>
  <interface name="org.kde.StatusNotifierWatcher">
    <method name="RegisterStatusNotifierItem"><arg type="s" direction="in"/></method>
    <method name="RegisterStatusNotifierHost"><arg type="s" direction="in"/></method>
    <property name="RegisteredStatusNotifierItems" type="as" access="read"/>
    <property name="IsStatusNotifierHostRegistered" type="b" access="read"/>
    <property name="ProtocolVersion" type="i" access="read"/>
  </interface>
</node>
"""

items = []


def on_call(conn, sender, path, iface, method, params, invocation):
    if method == "RegisterStatusNotifierItem":
        service = params.unpack()[0]
        if service.startswith("/"):
            items.append((sender, service))
        else:
            items.append((service, "/StatusNotifierItem"))
        # After the app's first reminder check has set the icon, tooltip and menu.
        GLib.timeout_add(3000, show_item, conn)
    invocation.return_value(None)


def on_get(conn, sender, path, iface, prop):
    if prop == "RegisteredStatusNotifierItems":
        return GLib.Variant("as", [n + p for n, p in items])
    if prop == "IsStatusNotifierHostRegistered":
        return GLib.Variant("b", True)
    return GLib.Variant("i", 0)


def prop(conn, name, path, key):
    reply = conn.call_sync(
        name, path, "org.freedesktop.DBus.Properties", "Get",
        GLib.Variant("(ss)", ("org.kde.StatusNotifierItem", key)),
        GLib.VariantType("(v)"), Gio.DBusCallFlags.NONE, -1, None,
    )
    return reply.unpack()[0]


def show_item(conn):
    name, path = items[0]
    menu_path = prop(conn, name, path, "Menu")
    tooltip = prop(conn, name, path, "ToolTip")
    pixmaps = prop(conn, name, path, "IconPixmap")

    bar = Gtk.Window(type=Gtk.WindowType.POPUP)
    box = Gtk.Box(spacing=8)
    box.set_border_width(4)
    if pixmaps:
        w, h, argb = pixmaps[0]
        data = bytearray(argb)
        for i in range(0, len(data), 4):  # ARGB (network order) to RGBA
            a, r, g, b = data[i:i + 4]
            data[i:i + 4] = bytes((r, g, b, a))
        pix = GdkPixbuf.Pixbuf.new_from_bytes(GLib.Bytes.new(bytes(data)), GdkPixbuf.Colorspace.RGB,
                                              True, 8, w, h, w * 4)
        box.pack_start(Gtk.Image.new_from_pixbuf(pix.scale_simple(22, 22, GdkPixbuf.InterpType.BILINEAR)),
                       False, False, 0)
    box.pack_start(Gtk.Label(label=" — ".join(s for s in (tooltip[2], tooltip[3]) if s)), False, False, 0)
    bar.add(box)
    bar.show_all()
    bar.move(40, 4)

    menu = DbusmenuGtk3.Menu.new(name, menu_path)

    def pop():
        menu.show_all()
        menu.popup(None, None, lambda m, x, y, d: (40, 36, True), None, 0, Gtk.get_current_event_time())
        print("tray-host: menu shown", flush=True)
        return False

    GLib.timeout_add(2000, pop)
    return False


def main():
    node = Gio.DBusNodeInfo.new_for_xml(WATCHER_XML)

    def on_bus(conn, name):
        conn.register_object("/StatusNotifierWatcher", node.interfaces[0], on_call, on_get, None)

    Gio.bus_own_name(Gio.BusType.SESSION, "org.kde.StatusNotifierWatcher", Gio.BusNameOwnerFlags.NONE,
                     on_bus, None, lambda *a: sys.exit("tray-host: cannot own the watcher name"))
    Gtk.main()


if __name__ == "__main__":
    main()
