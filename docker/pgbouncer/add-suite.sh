#!/bin/sh
# add-suite.sh BASE_SUITE EXTRA_SUITE: adds EXTRA_SUITE from the mirror the base image
# already uses (whatever its sources name), at pin priority 100: apt installs from it only
# what is asked for by version, everything else stays on BASE_SUITE.
set -eu
base=$1 extra=$2
uri=""
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
  # deb822 (the official images): the first stanza's URIs, which is the main archive
  uri=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources)
fi
if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
  uri=$(awk -v s="$base" '$1 == "deb" && $3 == s { print $2; exit }' /etc/apt/sources.list)
fi
[ -n "$uri" ] || { echo "add-suite.sh: no $base mirror in the base image's apt sources" >&2; exit 1; }
echo "deb $uri $extra main" > "/etc/apt/sources.list.d/hlpg-$extra.list"
printf 'Package: *\nPin: release n=%s\nPin-Priority: 100\n' "$extra" > "/etc/apt/preferences.d/hlpg-$extra"
