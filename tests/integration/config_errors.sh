#!/usr/bin/env bash
# A bad knob stops the program before it runs, naming the source, the key and
# the accepted range; nothing needs a network for that.
source "$(dirname "$0")/lib.sh"

# Through veer run -s.
if "$VEER" run -s net.ipv4.tcp_syn_retries=300 -- true >"$WORK/run.out" 2>&1; then
  fail "veer run accepted tcp_syn_retries=300"
fi
expect_in "$WORK/run.out" "net.ipv4.tcp_syn_retries"
expect_in "$WORK/run.out" "1\.\.127"

# Through the environment, with the library preloaded directly: the program
# itself must not run (its marker file must not appear).
lib="$(dirname "$IT_BIN")/lib/libveer.so"
preload="$lib"
if [ -n "${IT_SANITIZER_PRELOAD:-}" ]; then preload="$IT_SANITIZER_PRELOAD:$lib"; fi
set +e
env ASAN_OPTIONS=detect_leaks=0:verify_asan_link_order=0 LD_PRELOAD="$preload" \
  VEER_TCP_FIN_TIMEOUT=0 sh -c "touch $WORK/ran" >"$WORK/env.out" 2>&1
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "expected exit 2 for a bad environment value, got $rc"
[ ! -e "$WORK/ran" ] || fail "the program ran despite the bad configuration"
expect_in "$WORK/env.out" "VEER_TCP_FIN_TIMEOUT=0"
expect_in "$WORK/env.out" "net.ipv4.tcp_fin_timeout"

# Through a config file: file and line are named.
printf '# demo config\nnet.ipv4.tcp_tw_reuse = 1\nnet.ipv4.tcp_tw_reuse = 7\n' >"$WORK/bad.conf"
if "$VEER" run --config "$WORK/bad.conf" -- true >"$WORK/file.out" 2>&1; then
  fail "veer run accepted tcp_tw_reuse=7"
fi
expect_in "$WORK/file.out" "bad\.conf:3"
expect_in "$WORK/file.out" "0\.\.2"

# An unknown key gets a suggestion.
if "$VEER" run -s tcp_syn_retries=2 -- true >"$WORK/unknown.out" 2>&1; then
  fail "veer run accepted an unknown key"
fi
expect_in "$WORK/unknown.out" "net\.ipv4\.tcp_syn_retries"
log "PASS: bad values refused with source, key and range"
