//! The configuration of a private D-Bus session bus for tests: listens in `bus_dir`, lets
//! anyone own any name, and has no service directories, so nothing is D-Bus-activated
//! behind the test's back (an unprimed second keyring daemon, say).

use std::path::Path;

/// Writes the bus configuration to `conf`, listening on a socket in `bus_dir`.
pub fn write(conf: &Path, bus_dir: &Path) {
    std::fs::write(
        conf,
        format!(
            r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
            bus_dir.display()
        ),
    )
    .expect("write the bus configuration");
}
