#!/bin/sh
# Installs Parley: the binary, the systemd unit and (if absent) the config file.
#
#   deploy/install.sh --binary dist/parley             from the repository, after npm run build
#   ./install.sh                                       from an unpacked release directory
#   install.sh --root /tmp/pkg --binary dist/parley    staged install (packaging, tests)
#
# Options:
#   --binary PATH   the parley binary (default: ./parley, ../parley or ../dist/parley
#                   next to this script)
#   --prefix DIR    installation prefix (default /usr/local): the binary goes to DIR/bin
#   --root DIR      install below DIR (like DESTDIR); no systemctl, no root required
#   --no-systemd    do not install the unit nor call systemctl (hosts without systemd)
#
# The binary is replaced atomically, so upgrading over a running Parley is safe (restart it
# afterwards). The unit is always replaced: put local changes in a drop-in
# (systemctl edit parley). An existing /etc/parley/parley.toml is never overwritten.
set -eu

prog=install.sh
die() {
  printf '%s: error: %s\n' "$prog" "$*" >&2
  exit 1
}
say() { printf '%s\n' "$*"; }
usage() {
  sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"
}

script_dir=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
binary=""
prefix=/usr/local
root=""
systemd=yes

need_arg() {
  if [ "$#" -lt 2 ] || [ -z "$2" ]; then
    die "$1 needs a value (see --help)"
  fi
}
while [ "$#" -gt 0 ]; do
  case $1 in
  --binary) need_arg "$@"; binary=$2; shift 2 ;;
  --binary=*) binary=${1#*=}; shift ;;
  --prefix) need_arg "$@"; prefix=$2; shift 2 ;;
  --prefix=*) prefix=${1#*=}; shift ;;
  --root) need_arg "$@"; root=$2; shift 2 ;;
  --root=*) root=${1#*=}; shift ;;
  --no-systemd) systemd=no; shift ;;
  -h | --help) usage; exit 0 ;;
  *) die "unknown argument '$1' (see --help)" ;;
  esac
done

case $prefix in
/*) ;;
*) die "--prefix must be an absolute path (got '$prefix')" ;;
esac
case $prefix in
*'#'* | *'&'* | *\\*) die "--prefix must not contain '#', '&' or a backslash" ;;
esac
prefix=${prefix%/}
root=${root%/}

# The binary: as given, else the usual places next to this script.
if [ -n "$binary" ]; then
  [ -e "$binary" ] || die "binary '$binary' does not exist (build it with: npm ci && npm run build)"
  [ -f "$binary" ] || die "binary '$binary' is not a regular file"
  [ -r "$binary" ] || die "binary '$binary' is not readable"
else
  for candidate in "$script_dir/parley" "$script_dir/../parley" "$script_dir/../dist/parley"; do
    if [ -f "$candidate" ]; then
      binary=$candidate
      break
    fi
  done
  [ -n "$binary" ] || die "no parley binary found next to $script_dir; pass --binary PATH (build it with: npm ci && npm run build)"
fi

unit_src=$script_dir/parley.service
config_src=$script_dir/parley.example.toml
[ "$systemd" = no ] || [ -f "$unit_src" ] || die "unit file '$unit_src' is missing (keep install.sh next to parley.service)"
[ -f "$config_src" ] || die "example config '$config_src' is missing (keep install.sh next to parley.example.toml)"

if [ -z "$root" ]; then
  [ "$(id -u)" -eq 0 ] || die "installing into $prefix and /etc needs root: run with sudo (or use --root DIR for a staged install)"
  # A real install: the binary must run here (right CPU architecture, not truncated).
  version=$("$binary" --version 2>&1) || die "'$binary --version' failed; is it a parley binary for this machine? ($version)"
  say "Installing $binary ($version)"
fi

bin_dir=$root$prefix/bin
bin_dest=$bin_dir/parley
unit_dir=$root/etc/systemd/system
config_dir=$root/etc/parley
config_dest=$config_dir/parley.toml

umask 022

# Binary: copy next to the destination, then rename over it (a running binary stays intact).
mkdir -p "$bin_dir" || die "cannot create $bin_dir"
tmp=$bin_dest.new.$$
trap 'rm -f "$tmp"' EXIT
cp "$binary" "$tmp" || die "cannot copy '$binary' to $bin_dir"
chmod 0755 "$tmp"
mv -f "$tmp" "$bin_dest" || die "cannot install $bin_dest"
trap - EXIT
say "installed $bin_dest"

# Unit, with ExecStart pointing at the installed binary.
if [ "$systemd" = yes ]; then
  mkdir -p "$unit_dir" || die "cannot create $unit_dir"
  sed "s#/usr/local/bin/parley#$prefix/bin/parley#g" "$unit_src" >"$unit_dir/parley.service.new.$$" ||
    die "cannot write $unit_dir/parley.service"
  chmod 0644 "$unit_dir/parley.service.new.$$"
  mv -f "$unit_dir/parley.service.new.$$" "$unit_dir/parley.service"
  say "installed $unit_dir/parley.service"
fi

# Config: only if absent, never over an admin's file. Root-only (it may hold secrets);
# the unit hands it to the service with LoadCredential=.
mkdir -p "$config_dir" || die "cannot create $config_dir"
if [ -e "$config_dest" ]; then
  say "kept existing $config_dest (compare with $config_src for new keys)"
else
  (umask 027 && cp "$config_src" "$config_dest") || die "cannot write $config_dest"
  chmod 0640 "$config_dest"
  say "installed $config_dest"
fi

if [ -n "$root" ]; then
  say "staged install below $root done"
  exit 0
fi

if [ "$systemd" = no ]; then
  say ""
  say "Next: set data_dir in $config_dest to an absolute path (e.g. /var/lib/parley),"
  say "then run  $bin_dest serve --config $config_dest  under your service manager."
  exit 0
fi

if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  systemctl daemon-reload || die "systemctl daemon-reload failed"
  say ""
  say "Next steps:"
  say "  edit $config_dest (public_url; host and trusted_proxies behind a proxy)"
  say "  systemctl enable --now parley     # start now and at boot"
  say "  systemctl restart parley          # instead, when upgrading a running Parley"
  say "  journalctl -u parley -f           # follow the logs"
else
  say ""
  say "systemd is not running here: the unit was installed but not loaded."
  say "Start Parley with:  $bin_dest serve --config $config_dest"
fi
