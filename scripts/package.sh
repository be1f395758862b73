#!/usr/bin/env bash
# Builds the Debian package: release binaries with the Swift runtime linked statically, the systemd unit,
# sysusers and tmpfiles entries, the default configuration as a conffile, shell completions and man pages.
#
#   scripts/package.sh            -> dist/estafette_<version>_<arch>.deb (and runs lintian when installed)
#
# Builds for the machine's own architecture (dpkg --print-architecture). For arm64 (a Raspberry Pi) run it
# on an arm64 Debian 12 machine with the arm64 Swift toolchain: see docs/operating-a-relay.md.
# Environment: SCRATCH (build folder, default .build-static), OUT (default dist), SKIP_BUILD=1 (reuse binaries),
# BIN_DIR (take the binaries from there).
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=${SCRATCH:-.build-static}
out=${OUT:-dist}
version=$(sed -n 's/.*string = "\(.*\)".*/\1/p' Sources/EstafetteNode/Version.swift)
arch=$(dpkg --print-architecture)
[ -n "$version" ] || { echo "package.sh: cannot read the version" >&2; exit 1; }

if [ "${SKIP_BUILD:-0}" != 1 ]; then
    swift build -c release --static-swift-stdlib --scratch-path "$scratch" --product estafetted
    swift build -c release --static-swift-stdlib --scratch-path "$scratch" --product estafette
fi
bin=${BIN_DIR:-$(swift build -c release --static-swift-stdlib --scratch-path "$scratch" --show-bin-path)}

# Only the C libraries of the base system (and libsodium, libsqlite3, libqrencode) may be left to the system
# (libqrencode brings libpthread, which glibc 2.34+ keeps as an empty stub).
for b in estafetted estafette; do
    extra=$(ldd "$bin/$b" | awk '{print $1}' |
        grep -vE '^(linux-vdso|/lib64/ld-linux|/lib/ld-linux)|^lib(c|m|pthread|stdc\+\+|gcc_s|sodium|sqlite3|qrencode)\.so' || true)
    if [ -n "$extra" ]; then
        echo "package.sh: $b links more than libc, libm, libstdc++, libgcc_s, libsodium, libsqlite3, libqrencode: $extra" >&2
        exit 1
    fi
done

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
pkg=$root/estafette
install -d "$pkg/DEBIAN" "$pkg/usr/bin" "$pkg/lib/systemd/system" "$pkg/usr/lib/sysusers.d" \
    "$pkg/usr/lib/tmpfiles.d" "$pkg/etc/estafette" "$pkg/usr/share/man/man1" "$pkg/usr/share/man/man8" \
    "$pkg/usr/share/bash-completion/completions" "$pkg/usr/share/zsh/vendor-completions" \
    "$pkg/usr/share/fish/vendor_completions.d" "$pkg/usr/share/doc/estafette"
for b in estafetted estafette; do
    install -m 0755 "$bin/$b" "$pkg/usr/bin/$b"
    strip --strip-unneeded --remove-section=.comment --remove-section=.note "$pkg/usr/bin/$b"
    # bash completions are sourced, not run: no #! line. LC_ALL=C: the CLI's help follows the locale, and the
    # packaged completions are in English.
    LC_ALL=C "$pkg/usr/bin/$b" --generate-completion-script bash | sed '1{/^#!/d}' >"$pkg/usr/share/bash-completion/completions/$b"
    LC_ALL=C "$pkg/usr/bin/$b" --generate-completion-script zsh >"$pkg/usr/share/zsh/vendor-completions/_$b"
    LC_ALL=C "$pkg/usr/bin/$b" --generate-completion-script fish >"$pkg/usr/share/fish/vendor_completions.d/$b.fish"
done
install -m 0644 systemd/estafetted.service "$pkg/lib/systemd/system/estafetted.service"
install -m 0644 systemd/estafette.sysusers "$pkg/usr/lib/sysusers.d/estafette.conf"
install -m 0644 systemd/estafette.tmpfiles "$pkg/usr/lib/tmpfiles.d/estafette.conf"
install -m 0644 Config/estafette.toml "$pkg/etc/estafette/estafette.toml"
gzip -9n <packaging/man/estafette.1 >"$pkg/usr/share/man/man1/estafette.1.gz"
gzip -9n <packaging/man/estafetted.8 >"$pkg/usr/share/man/man8/estafetted.8.gz"
install -m 0644 packaging/debian/copyright "$pkg/usr/share/doc/estafette/copyright"
sed "s/@VERSION@/$version/" packaging/debian/changelog | gzip -9n >"$pkg/usr/share/doc/estafette/changelog.gz"
find "$pkg/usr/share" -type f -exec chmod 0644 {} +

for s in postinst prerm postrm; do install -m 0755 "packaging/debian/$s" "$pkg/DEBIAN/$s"; done
echo /etc/estafette/estafette.toml >"$pkg/DEBIAN/conffiles"
size=$(du -sk --exclude=DEBIAN "$pkg" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" packaging/debian/control \
    >"$pkg/DEBIAN/control"
(cd "$pkg" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum) \
    >"$pkg/DEBIAN/md5sums"

mkdir -p "$out"
deb="$out/estafette_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$pkg" "$deb" >/dev/null
echo "$deb"
if command -v lintian >/dev/null; then
    lintian --fail-on error --suppress-tags-from-file packaging/debian/lintian-overrides.txt "$deb" >&2
fi
