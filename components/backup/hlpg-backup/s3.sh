# hlpg-backup, part 3 of 7 (s3): curl with SigV4 for the logical dumps, and object
# listings parsed with xmllint (libxml2-utils, installed by docker/postgres/Dockerfile).
# shellcheck shell=bash disable=SC2154  # settings come from the rendered header and the runtime file

# ------------------------------------------------------------------ S3 (curl, SigV4)
# pgBackRest cannot store arbitrary objects, so dumps go up with curl's SigV4
# signer using the same key pgBackRest uses (HLPG_S3_KEY*, from the secrets file
# load_runtime sources). The secret reaches curl through a
# config on a pipe, never argv (which other processes can read).
s3_curl() {
  local url=$1; shift
  require_env HLPG_S3_KEY HLPG_S3_KEY_SECRET
  local user="$HLPG_S3_KEY:$HLPG_S3_KEY_SECRET"
  user=${user//\\/\\\\}; user=${user//\"/\\\"}
  local -a args=(--silent --show-error --fail-with-body --retry 3 --retry-delay 2 --aws-sigv4 "aws:amz:$S3_REGION:s3")
  [[ -n $S3_CA_FILE ]] && args+=(--cacert "$S3_CA_FILE")
  curl "${args[@]}" --config <(printf 'user = "%s"\n' "$user") "$@" "$url"
}

urlencode() {
  local s=$1 out='' c i
  for (( i = 0; i < ${#s}; i++ )); do
    c=${s:i:1}
    case $c in [A-Za-z0-9._~-]) out+=$c ;; *) out+=$(printf '%%%02X' "'$c") ;; esac
  done
  printf '%s' "$out"
}

# ListObjectsV2 answers are XML in S3's namespace; local-name() matches the
# elements whatever namespace (or none) a store puts them in.
readonly XP_RESULT="/*[local-name()='ListBucketResult']"
readonly XP_KEYS="$XP_RESULT/*[local-name()='Contents']/*[local-name()='Key']"

# xml_string <xpath> < xml: the XPath 1.0 string value, entities decoded by the parser.
xml_string() { xmllint --nonet --xpath "string($1)" -; }

# list_page_keys < xml: the keys of one ListObjectsV2 page, one a line, in document order.
# One xmllint run prints every Key element on its own line, re-serialized
# (`<Key>a&amp;b</Key>`): a line whose content has no markup and no '&' is the key
# verbatim; any other key (an entity, CDATA, a comment) is read exactly with
# string(). If the lines do not pair up with the keys (a key with a line break),
# every key is read with string().
list_page_keys() {
  local xml n i key re='^<[^<>]*>([^<>&]*)</[^<>]*>$'
  local -a lines=()
  xml=$(cat)
  [[ $(xml_string "count($XP_RESULT)" <<<"$xml") == 1 ]] || die "S3 listing is not a ListBucketResult: $(head -c 300 <<<"$xml")"
  n=$(xml_string "count($XP_KEYS)" <<<"$xml")
  (( n > 0 )) || return 0
  mapfile -t lines < <(xmllint --nonet --xpath "$XP_KEYS" - <<<"$xml")
  (( ${#lines[@]} == n )) || lines=()
  for (( i = 1; i <= n; i++ )); do
    if [[ ${lines[i - 1]:-} =~ $re ]]; then key=${BASH_REMATCH[1]}; else key=$(xml_string "($XP_KEYS)[$i]" <<<"$xml"); fi
    [[ -n $key && $key != *$'\n'* ]] || die "S3 listing has an empty key or one with a line break (key $i of $n)"
    printf '%s\n' "$key"
  done
}

# list_page_next < xml: the continuation token when the page is truncated, else nothing.
list_page_next() {
  local xml cont
  xml=$(cat)
  [[ $(xml_string "$XP_RESULT/*[local-name()='IsTruncated']" <<<"$xml") == true ]] || return 0
  cont=$(xml_string "$XP_RESULT/*[local-name()='NextContinuationToken']" <<<"$xml")
  [[ -n $cont ]] || die "truncated listing without a continuation token"
  printf '%s' "$cont"
}

# Keys under a prefix, ascending (S3 lists in key order), following continuation tokens.
# (`cont`, not `token`: the policy no-passwords-in-container-config reads `token=...` in an upload as a credential.)
s3_list() {
  local prefix=$1 cont='' body query
  while :; do
    query="list-type=2&prefix=$(urlencode "$prefix")"
    [[ -n $cont ]] && query="continuation-token=$(urlencode "$cont")&$query"
    body=$(s3_curl "$S3_BUCKET_URL/?$query" -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD')
    list_page_keys <<<"$body"
    cont=$(list_page_next <<<"$body")
    [[ -n $cont ]] || break
  done
}

# PUT with the body's SHA-256 signed: the store rejects a corrupted upload.
s3_put() {
  local file=$1 key=$2 sha
  sha=$(sha256sum "$file" | cut -d' ' -f1)
  s3_curl "$S3_BUCKET_URL/$key" -T "$file" -H "x-amz-content-sha256: $sha" -o /dev/null
}

s3_get() { s3_curl "$S3_BUCKET_URL/$2" -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' -o "$1"; }

s3_delete() { s3_curl "$S3_BUCKET_URL/$1" -X DELETE -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' -o /dev/null; }
