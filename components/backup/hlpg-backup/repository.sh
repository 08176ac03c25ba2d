# hlpg-backup, part 4 of 7 (repository): pgbackrest info read with jq, the apps
# of the runtime file, and the logical dumps in the bucket.
# shellcheck shell=bash disable=SC2154  # settings come from the rendered header and the runtime file

# pgbackrest info exits 0 even when it cannot read or decrypt the repository
# (it reports "status: error" instead); this prints the JSON only when every
# status code in it is one of the allowed ones (default 0 = ok; 2 = "no valid
# backups" is fine for a repository that is new) and fails otherwise.
repo_info_json() {
  local json codes code allowed=" ${*:-0} "
  # pgBackRest 2.45 leaves control characters unescaped in error messages (the bytes of
  # a failed decryption), which JSON forbids in strings; outside strings they can only be
  # whitespace, so mapping them to spaces keeps every valid document valid.
  json=$(pgbr --output=json info | tr '\000-\037' ' ')
  # every status object: the stanza's and each repository's
  codes=$(jq -r '[.. | objects | .status | objects | .code | numbers] | unique | .[]' <<<"$json") \
    || die "pgbackrest info did not return JSON: $(head -c 300 <<<"$json")"
  [[ -n $codes ]] || die "pgbackrest info returned no status"
  for code in $codes; do
    [[ $allowed == *" $code "* ]] || die "repository status is not ok (status codes: ${codes//$'\n'/ }): $(jq -r '[.. | objects | .status | objects | .message | strings] | unique | join("; ")' <<<"$json")"
  done
  printf '%s\n' "$json"
}

# info_latest_label < json: label of the newest backup of this stanza (pgbackrest lists them oldest first), or nothing.
info_latest_label() { jq -r --arg stanza "$STANZA" '[.[] | select(.name == $stanza) | .backup[]?.label] | last // empty'; }

# info_has_backup < json: "true" when the stanza has at least one backup.
info_has_backup() { jq -r --arg stanza "$STANZA" '[.[] | select(.name == $stanza) | .backup[]?] | length > 0'; }

# ------------------------------------------------------------------ apps and dumps

app_field() { # app_field <name> <1=name|2=database|3=owner>
  local entry
  local -a f
  for entry in "${APPS[@]}"; do
    IFS=: read -r -a f <<<"$entry"
    if [[ ${f[0]} == "$1" ]]; then printf '%s' "${f[$(( $2 - 1 ))]}"; return 0; fi
  done
  die "unknown app '$1' (configured: $(printf '%s ' "${APPS[@]%%:*}"))"
}

# ------------------------------------------------------------------ dump store
# The bucket when there is one, else the posix repository's directory (DUMP_DIR).

store_put() { # store_put <file> <key>
  if [[ -n $S3_BUCKET_URL ]]; then s3_put "$1" "$2"; return; fi
  local dest="$DUMP_DIR/$2"
  mkdir -p "${dest%/*}"
  # complete or absent: a listing never sees half a dump
  cp "$1" "$dest.partial"
  sync "$dest.partial"
  mv "$dest.partial" "$dest"
}

store_get() { # store_get <file> <key>
  if [[ -n $S3_BUCKET_URL ]]; then s3_get "$1" "$2"; else cp "$DUMP_DIR/$2" "$1"; fi
}

store_delete() { # store_delete <key>
  if [[ -n $S3_BUCKET_URL ]]; then s3_delete "$1"; else rm -f "$DUMP_DIR/$1"; fi
}

# store_list <prefix>: keys under a prefix, ascending.
store_list() {
  if [[ -n $S3_BUCKET_URL ]]; then s3_list "$1"; return; fi
  [[ -d $DUMP_DIR/$1 ]] || return 0
  (cd "$DUMP_DIR" && find "${1%/}" -type f ! -name '*.partial' -printf '%p\n' | LC_ALL=C sort)
}

# gfs_keep <daily> <weekly> <monthly> < keys: of keys named .../<YYYYMMDDTHHMMSSZ>.<ext>, the
# ones a grandfather-father-son rotation keeps: the newest of each of the last <daily>
# days that have one, of the last <weekly> ISO weeks and of the last <monthly> months.
# A key without a stamp is kept (never delete what is not understood). Ascending.
gfs_keep() {
  local -a keys=()
  local -A kept=() day=() week=() month=()
  local d=$1 w=$2 m=$3 nd=0 nw=0 nm=0 i key stamp ymd wk
  mapfile -t keys
  for (( i = ${#keys[@]} - 1; i >= 0; i-- )); do
    key=${keys[i]}
    [[ -n $key ]] || continue
    stamp=${key##*/}
    if [[ ! $stamp =~ ^([0-9]{4})([0-9]{2})([0-9]{2})T[0-9]{6}Z\. ]]; then kept[$key]=1; continue; fi
    ymd=${BASH_REMATCH[1]}${BASH_REMATCH[2]}${BASH_REMATCH[3]}
    wk=$(date -u -d "$ymd" +%G%V)
    if (( nd < d )) && [[ -z ${day[$ymd]:-} ]]; then day[$ymd]=1; nd=$(( nd + 1 )); kept[$key]=1; fi
    if (( nw < w )) && [[ -z ${week[$wk]:-} ]]; then week[$wk]=1; nw=$(( nw + 1 )); kept[$key]=1; fi
    if (( nm < m )) && [[ -z ${month[${ymd:0:6}]:-} ]]; then month[${ymd:0:6}]=1; nm=$(( nm + 1 )); kept[$key]=1; fi
  done
  for key in "${keys[@]}"; do [[ -n ${kept[$key]:-} ]] && printf '%s\n' "$key"; done
  return 0
}

# prune_dumps <prefix> <suffix>: deletes what gfs_keep (with KEEP) does not keep.
prune_dumps() {
  local keys keep key n=0
  keys=$(store_list "$1" | grep -E "$2\$" || true)
  keep=$(gfs_keep "${KEEP[@]}" <<<"$keys")
  while read -r key; do
    [[ -n $key ]] || continue
    if ! grep -qxF -- "$key" <<<"$keep"; then store_delete "$key"; n=$(( n + 1 )); fi
  done <<<"$keys"
  (( n == 0 )) || log "logical: pruned $n old dump(s) under $1 (keeping daily ${KEEP[0]}, weekly ${KEEP[1]}, monthly ${KEEP[2]})"
}

list_dumps() {
  local keys
  keys=$(store_list "$LOGICAL_PREFIX$1/") # a failed listing fails here, not as "no dumps"
  grep -E '\.dump\.age$' <<<"$keys" || true
}

latest_dump() {
  local keys key
  keys=$(list_dumps "$1")
  key=$(tail -n 1 <<<"$keys")
  [[ -n $key ]] || die "no logical dump of app '$1' under $LOGICAL_PREFIX$1/"
  printf '%s' "$key"
}

# Decrypts with the identity from the environment (never written to disk): the
# operator's HLPG_DUMP_IDENTITY when given (dumps encrypted to backup.dumps.recipient),
# else the one derived from the passphrase (the secrets file).
age_decrypt() { # age_decrypt <in> <out>
  local id=${HLPG_DUMP_IDENTITY:-}
  if [[ -z $id ]]; then
    [[ $DUMP_KEY != external ]] || die "dumps are encrypted to backup.dumps.recipient: pass its identity, e.g. docker exec -e HLPG_DUMP_IDENTITY=\"\$(tail -n 1 key.txt)\" ... (age-keygen writes the key last)"
    require_env HLPG_AGE_IDENTITY
    id=$HLPG_AGE_IDENTITY
  fi
  age --decrypt --identity <(printf '%s\n' "$id") --output "$2" "$1"
}
