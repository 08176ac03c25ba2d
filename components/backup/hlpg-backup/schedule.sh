# hlpg-backup, part 6 of 7 (schedule): the cron matcher (croner's semantics, compared
# with components/lib/cron.ts minute by minute in the unit tests) and which job runs when.
# shellcheck shell=bash disable=SC2154  # settings come from the rendered header and the runtime file

# ------------------------------------------------------------------ cron

# cron_field <value> <field> <lo> <hi>: does one field match? Parameter
# expansion only (no subshells, no here-strings, no globbing of '*').
cron_field() {
  local v=$1 rest=$2 lo=$3 hi=$4 part range step a b
  while [[ -n $rest ]]; do
    part=${rest%%,*}
    if [[ $rest == *,* ]]; then rest=${rest#*,}; else rest=''; fi
    step=1; range=$part
    if [[ $part == */* ]]; then step=${part#*/}; range=${part%/*}; fi
    if [[ $range == '*' ]]; then a=$lo; b=$hi
    elif [[ $range == *-* ]]; then a=${range%-*}; b=${range#*-}
    else
      a=$range; b=$range
      if [[ $part == */* ]]; then b=$hi; fi # "5/20" means 5-hi/20
    fi
    if (( v >= 10#$a && v <= 10#$b && (v - 10#$a) % 10#$step == 0 )); then return 0; fi
  done
  return 1
}

# cron_match "<m h dom mon dow>" <epoch>: croner's semantics (components/lib/cron.ts,
# legacy mode): when both day fields are restricted, either may match; a day field
# counts as unrestricted only when it is exactly '*' (so '*/2' restricts, unlike
# Vixie cron). In the container's time zone (UTC unless TZ is set). Fields are
# separated by single spaces (rendered so). The unit tests compare this with the
# TypeScript evaluation minute by minute.
cron_match() {
  local expr=$1 now mi h dom mon dow
  local f_mi f_h f_dom f_mon f_dow
  f_mi=${expr%% *}; expr=${expr#* }
  f_h=${expr%% *}; expr=${expr#* }
  f_dom=${expr%% *}; expr=${expr#* }
  f_mon=${expr%% *}; f_dow=${expr#* }
  printf -v now '%(%M %H %d %m %w)T' "$2"
  mi=${now%% *}; now=${now#* }
  h=${now%% *}; now=${now#* }
  dom=${now%% *}; now=${now#* }
  mon=${now%% *}; dow=${now#* }
  cron_field $(( 10#$mi )) "$f_mi" 0 59 || return 1
  cron_field $(( 10#$h )) "$f_h" 0 23 || return 1
  cron_field $(( 10#$mon )) "$f_mon" 1 12 || return 1
  local dom_ok=1 dow_ok=1
  cron_field $(( 10#$dom )) "$f_dom" 1 31 || dom_ok=0
  if ! cron_field "$dow" "$f_dow" 0 7; then
    if (( dow != 0 )) || ! cron_field 7 "$f_dow" 0 7; then dow_ok=0; fi # 7 is Sunday too
  fi
  # both day fields restricted: either may match; otherwise both must
  if [[ $f_dom != '*' && $f_dow != '*' ]]; then (( dom_ok || dow_ok )); else (( dom_ok && dow_ok )); fi
}

# due_jobs <epoch> [prefix]: jobs whose schedule fires in that minute, one a line.
due_jobs() {
  local entry
  for entry in "${SCHEDULE[@]}"; do
    if cron_match "${entry%|*}" "$1"; then printf '%s%s\n' "${2:-}" "${entry##*|}"; fi
  done
}

# is_job <name>: one of the jobs of the table (JOBS).
is_job() {
  local job
  for job in "${JOBS[@]}"; do [[ $job == "$1" ]] && return 0; done
  return 1
}

# run_table_job <job>: run a job of the table in its health group.
run_table_job() { run_job "${JOB_GROUP[$1]}" "${JOB_FUNCTION[$1]}"; }
