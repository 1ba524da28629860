#!/usr/bin/env bash
# Installs Kordon: binary, default config, systemd unit, sysusers, tmpfiles and logrotate files.
#   PREFIX   where the binary and docs go (default /usr/local)
#   DESTDIR  staging root for packaging (default empty: the live system)
# An existing config in /etc/kordon is never overwritten; the shipped one is put beside it as *.new.
set -euo pipefail
cd "$(dirname "$0")/.."

PREFIX=${PREFIX:-/usr/local}
DESTDIR=${DESTDIR:-}
binary=${KORDON_BINARY:-.build/release/kordon}
[[ -x "$binary" ]] || { echo "no $binary: run 'make build' first" >&2; exit 1; }

install -d "$DESTDIR$PREFIX/bin" "$DESTDIR$PREFIX/share/doc/kordon" "$DESTDIR/etc/kordon/fixtures" \
    "$DESTDIR$PREFIX/lib/systemd/system" "$DESTDIR$PREFIX/lib/sysusers.d" "$DESTDIR$PREFIX/lib/tmpfiles.d" \
    "$DESTDIR/etc/logrotate.d"
install -m 0755 "$binary" "$DESTDIR$PREFIX/bin/kordon"
install -m 0644 README.md "$DESTDIR$PREFIX/share/doc/kordon/README.md"

for file in config/*.yaml config/fixtures/*.yaml; do
    target="$DESTDIR/etc/kordon/${file#config/}"
    if [[ -e "$target" ]]; then
        install -m 0640 "$file" "$target.new"
    else
        install -m 0640 "$file" "$target"
    fi
done

sed "s|/usr/local/bin/kordon|$PREFIX/bin/kordon|; s|/usr/local/share/doc|$PREFIX/share/doc|" deploy/kordon.service \
    > "$DESTDIR$PREFIX/lib/systemd/system/kordon.service"
chmod 0644 "$DESTDIR$PREFIX/lib/systemd/system/kordon.service"
install -m 0644 deploy/kordon.sysusers "$DESTDIR$PREFIX/lib/sysusers.d/kordon.conf"
install -m 0644 deploy/kordon.tmpfiles "$DESTDIR$PREFIX/lib/tmpfiles.d/kordon.conf"
install -m 0644 deploy/kordon.logrotate "$DESTDIR/etc/logrotate.d/kordon"

if [[ -z "$DESTDIR" ]] && command -v systemctl >/dev/null && [[ -d /run/systemd/system ]]; then
    systemd-sysusers "$PREFIX/lib/sysusers.d/kordon.conf"
    systemd-tmpfiles --create "$PREFIX/lib/tmpfiles.d/kordon.conf"
    chgrp -R kordon /etc/kordon
    systemctl daemon-reload
    echo "installed; start with: systemctl enable --now kordon"
fi
