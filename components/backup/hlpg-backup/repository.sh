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

list_dumps() {
  local keys
  keys=$(s3_list "$LOGICAL_PREFIX$1/") # a failed listing fails here, not as "no dumps"
  grep -E '\.dump\.age$' <<<"$keys" || true
}

latest_dump() {
  local keys key
  keys=$(list_dumps "$1")
  key=$(tail -n 1 <<<"$keys")
  [[ -n $key ]] || die "no logical dump of app '$1' under $LOGICAL_PREFIX$1/"
  printf '%s' "$key"
}

# Decrypts with the identity from the environment (never written to disk).
age_decrypt() { # age_decrypt <in> <out>
  require_env HLPG_AGE_IDENTITY
  age --decrypt --identity <(printf '%s\n' "$HLPG_AGE_IDENTITY") --output "$2" "$1"
}
