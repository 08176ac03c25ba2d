# hlpg-backup, part 2 of 7 (runtime): what changes with the stack config, read from
# the runtime file ($RUNTIME_FILE, rendered by components/backup/sidecar-runtime.ts and
# delivered by a RuntimeFiles carrier into a read-only volume) and the secrets file
# ($HLPG_SECRETS_FILE). The scheduler reloads both every minute and every command
# loads them when it starts, so adding an app, rotating a key or changing the
# schedule needs no restart. Every line is validated here again: the file is data,
# never sourced.
# shellcheck shell=bash disable=SC2154  # settings come from the rendered header

# Set by load_runtime; empty until it succeeds.
S3_BUCKET_URL=''
S3_REGION=''
S3_CA_FILE=''
AGE_RECIPIENT=''
DUMP_DIR=''       # logical dumps on a posix repository (no bucket)
DUMP_KEY=derived  # derived: the sidecar holds the identity; external: only the recipient's owner can read dumps
KEEP=(7 4 3)      # dumps kept per app: daily weekly monthly
APPS=()     # name:database:owner
SCHEDULE=() # cron|job
declare -A HEALTH_LIMIT_MINUTES=()
RUNTIME_ERROR=''   # why the last load failed
RUNTIME_SUM=''     # checksum of the runtime file last loaded
RUNTIME_CHANGED=0  # 1 when the last load read a different file than the one before

# rt_check <value> <regex> <what>: RUNTIME_ERROR and status 1 unless the value matches.
rt_check() {
  [[ $1 =~ $2 ]] && return 0
  RUNTIME_ERROR="runtime file $RUNTIME_FILE: invalid $3: '$1'"
  return 1
}

# load_runtime: reads the runtime file and sources the secrets file. On any
# problem it keeps the values it had, sets RUNTIME_ERROR and returns 1; it never
# exits, so a running scheduler carries on with the last good values. Call it as
# `load_runtime || ...` (errexit does not apply inside; every step is checked).
load_runtime() {
  local line sum url='' region='' ca='' recipient='' dumpdir='' dumpkey=derived job group known
  local -a keep=(7 4 3)
  local -a f apps=() sched=()
  local -A limits=() seen=()
  RUNTIME_ERROR=''
  if [[ -n ${HLPG_SECRETS_FILE:-} ]]; then
    if [[ ! -r $HLPG_SECRETS_FILE ]]; then RUNTIME_ERROR="cannot read the secrets file $HLPG_SECRETS_FILE"; return 1; fi
    # shellcheck source=/dev/null
    source "$HLPG_SECRETS_FILE" || { RUNTIME_ERROR="cannot source the secrets file $HLPG_SECRETS_FILE"; return 1; }
  fi
  if [[ ! -r $RUNTIME_FILE ]]; then RUNTIME_ERROR="cannot read the runtime file $RUNTIME_FILE"; return 1; fi
  sum=$(cksum <"$RUNTIME_FILE") || { RUNTIME_ERROR="cannot read the runtime file $RUNTIME_FILE"; return 1; }
  while IFS= read -r line || [[ -n $line ]]; do
    [[ -z $line || $line == '#'* ]] && continue
    IFS=$'\t' read -r -a f <<<"$line"
    case "${f[0]}:${#f[@]}" in
      s3-url:2) rt_check "${f[1]}" '^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[a-z0-9.-]+)?$' "s3-url" || return 1; url=${f[1]} ;;
      s3-region:2) rt_check "${f[1]}" '^[a-z0-9-]{2,32}$' "s3-region" || return 1; region=${f[1]} ;;
      s3-ca-file:2) rt_check "${f[1]}" '^/[A-Za-z0-9._/-]+$' "s3-ca-file" || return 1; ca=${f[1]} ;;
      age-recipient:2) rt_check "${f[1]}" '^age1[02-9ac-hj-np-z]{58}$' "age-recipient" || return 1; recipient=${f[1]} ;;
      dump-dir:2) rt_check "${f[1]}" '^/[A-Za-z0-9._/-]+$' "dump-dir" || return 1; dumpdir=${f[1]} ;;
      dump-key:2) rt_check "${f[1]}" '^(derived|external)$' "dump-key" || return 1; dumpkey=${f[1]} ;;
      keep:4)
        rt_check "${f[1]} ${f[2]} ${f[3]}" '^[1-9][0-9]{0,2} [0-9]{1,3} [0-9]{1,3}$' "keep" || return 1
        keep=("${f[1]}" "${f[2]}" "${f[3]}") ;;
      app:4)
        rt_check "${f[1]}" '^[a-z][a-z0-9_-]{0,47}$' "app name" || return 1
        rt_check "${f[2]}" '^[a-z_][a-z0-9_]{0,62}$' "database of app ${f[1]}" || return 1
        rt_check "${f[3]}" '^[a-z_][a-z0-9_]{0,62}$' "owner of app ${f[1]}" || return 1
        if [[ -n ${seen[app:${f[1]}]:-} ]]; then RUNTIME_ERROR="runtime file $RUNTIME_FILE: app ${f[1]} twice"; return 1; fi
        seen[app:${f[1]}]=1
        apps+=("${f[1]}:${f[2]}:${f[3]}") ;;
      schedule:3)
        known=0
        for job in "${JOBS[@]}"; do [[ $job == "${f[1]}" ]] && known=1; done
        (( known )) || { RUNTIME_ERROR="runtime file $RUNTIME_FILE: schedule of unknown job '${f[1]}'"; return 1; }
        rt_check "${f[2]}" '^[0-9*,/-]+( [0-9*,/-]+){4}$' "schedule of job ${f[1]}" || return 1
        seen[job:${f[1]}]=1
        sched+=("${f[2]}|${f[1]}") ;;
      limit:3)
        known=0
        for group in "${HEALTH_GROUPS[@]}"; do [[ $group == "${f[1]}" ]] && known=1; done
        (( known )) || { RUNTIME_ERROR="runtime file $RUNTIME_FILE: limit of unknown health group '${f[1]}'"; return 1; }
        rt_check "${f[2]}" '^[1-9][0-9]{0,8}$' "limit of group ${f[1]}" || return 1
        limits[${f[1]}]=${f[2]} ;;
      *) RUNTIME_ERROR="runtime file $RUNTIME_FILE: unknown or malformed line: ${line//$'\t'/ }"; return 1 ;;
    esac
  done <"$RUNTIME_FILE"
  [[ ( -n $url && -n $region ) || -n $dumpdir ]] || { RUNTIME_ERROR="runtime file $RUNTIME_FILE: s3-url and s3-region, or dump-dir, are required"; return 1; }
  [[ -n $recipient ]] || { RUNTIME_ERROR="runtime file $RUNTIME_FILE: age-recipient is required"; return 1; }
  for job in "${JOBS[@]}"; do
    [[ -n ${seen[job:$job]:-} ]] || { RUNTIME_ERROR="runtime file $RUNTIME_FILE: no schedule for job $job"; return 1; }
  done
  for group in "${HEALTH_GROUPS[@]}"; do
    [[ -n ${limits[$group]:-} ]] || { RUNTIME_ERROR="runtime file $RUNTIME_FILE: no limit for health group $group"; return 1; }
  done
  S3_BUCKET_URL=$url
  S3_REGION=$region
  S3_CA_FILE=$ca
  AGE_RECIPIENT=$recipient
  DUMP_DIR=$dumpdir
  DUMP_KEY=$dumpkey
  KEEP=("${keep[@]}")
  APPS=("${apps[@]}")
  SCHEDULE=("${sched[@]}")
  HEALTH_LIMIT_MINUTES=()
  for group in "${!limits[@]}"; do HEALTH_LIMIT_MINUTES[$group]=${limits[$group]}; done
  RUNTIME_CHANGED=0
  [[ -n $RUNTIME_SUM && $sum != "$RUNTIME_SUM" ]] && RUNTIME_CHANGED=1
  RUNTIME_SUM=$sum
  return 0
}

# require_runtime: dies unless a runtime file has been loaded (jobs that need the
# apps or the bucket: logical, drill).
require_runtime() { [[ -n $AGE_RECIPIENT ]] || die "${RUNTIME_ERROR:-the runtime file has not been loaded}"; }
