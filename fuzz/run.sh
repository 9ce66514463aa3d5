#!/bin/sh
# make fuzz: runs each libFuzzer target for a fixed time on a scratch copy
# of its corpus and regressions (new inputs stay out of the tree), one
# target after the other. Fails when any target finds anything; the input
# is left under WORKDIR/<target>/ as crash-*, leak-*, timeout-* or oom-*,
# to be copied to fuzz/regressions/<target>/ once fixed.
# Usage: run.sh SECONDS FUZZDIR WORKDIR TARGET...
set -u

seconds=$1 fuzzdir=$2 work=$3
shift 3
status=0
for target in "$@"; do
	dir=$work/$target
	rm -rf "$dir"
	mkdir -p "$dir/corpus"
	cp "$fuzzdir/corpus/$target"/* "$dir/corpus/"
	if [ -d "$fuzzdir/regressions/$target" ]; then
		for f in "$fuzzdir/regressions/$target"/*; do
			[ -f "$f" ] && cp "$f" "$dir/corpus/"
		done
	fi
	echo "fuzz-$target: $seconds s"
	# The api target checks the library's allocations itself: SoftHSM keeps
	# every object it made until its session closes, which libFuzzer's leak
	# check would take for a leak in every input (and run LeakSanitizer
	# after each, at a few runs a second).
	leaks=
	[ "$target" = api ] && leaks=-detect_leaks=0
	# -max_len: room for the largest PRIVATEKEYBLOB (16384 bits, 9236
	# bytes). -timeout: no input should take a second. -rss_limit_mb keeps
	# a runaway allocation a finding instead of a swapping machine.
	if ./fuzz/fuzz-"$target" -max_total_time="$seconds" -max_len=10000 -timeout=10 \
		-rss_limit_mb=2048 $leaks \
		-print_final_stats=1 -artifact_prefix="$dir/" "$dir/corpus" \
		>"$dir/log" 2>&1; then
		grep -E '^stat::(number_of_executed_units|peak_rss_mb)|^Done' "$dir/log"
		echo "fuzz-$target: no finding"
	else
		tail -n 60 "$dir/log"
		echo "fuzz-$target: FINDING, see $dir/ (log and the input)"
		status=1
	fi
done
exit $status
