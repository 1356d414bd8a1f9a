# SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
# shellcheck shell=bash disable=SC2034
# conformance: libiscsi's iscsi-test-cu (-d: destructive tests allowed) over
# iSCSI on 127.0.0.1 against
#   fileio_ref  the kernel's own fileio backstore: the reference count (does
#               not gate; CONF_REF=0 skips it)
#   user_file   a user:file LUN served by tcmu-runner: fails if any test
#               listed in tests/vm/conformance/expected-pass.txt does not pass
# Both print their counts; user_file also prints the tests that pass but are
# not listed yet (add them to the list), and what fileio passes but we fail.
# Per-test result lists land in $VMOUT/conformance/*.results.
TESTS="fileio_ref user_file"
T_TIMEOUT=2500
CONF_SIZE=${CONF_SIZE:-$((1 << 30))}
CU_TMO=${CU_TMO:-2400}
EXPECTED=$TESTS_VM/conformance/expected-pass.txt
R=/vmout/conformance

# run_cu NAME URL: run the suite, write $R/NAME.results, print counts
run_cu() {
	local name=$1 url=$2 t0=$SECONDS rc p f
	mkdir -p "$R"
	timeout -k 10 "$CU_TMO" iscsi-test-cu -d "$url" > "$R/$name.cu.txt" 2>&1
	rc=$?
	"$TESTS_VM/conformance/parse-cu.sh" "$R/$name.cu.txt" > "$R/$name.results"
	p=$(grep -c '^PASS ' "$R/$name.results"); f=$(grep -c '^FAIL ' "$R/$name.results")
	echo "CONFORMANCE $name: $p passed, $f failed ($((SECONDS - t0))s, iscsi-test-cu rc=$rc)"
	grep -A3 '^Run Summary' "$R/$name.cu.txt"
	[ $rc = 124 ] && { echo "iscsi-test-cu hit the ${CU_TMO}s deadline"; return 1; }
	[ "$p" -gt 0 ]
}

t_fileio_ref() {
	[ "${CONF_REF:-1}" = 1 ] || { echo "skipped (CONF_REF=0)"; return 0; }
	local url
	truncate -s "$CONF_SIZE" "$SCRATCH/ref.img"
	fileio_backstore ref "$CONF_SIZE" "$SCRATCH/ref.img" || return 1
	url=$(iscsi_export ref "$CFS/core/fileio_1/ref") || return 1
	run_cu fileio "$url"
}

t_user_file() {
	local url missing new
	start_runner || return 1
	truncate -s "$CONF_SIZE" "$SCRATCH/cu.img"
	user_backstore cu "$CONF_SIZE" "file/$SCRATCH/cu.img" || return 1
	url=$(iscsi_export cu "$CFS/core/user_1/cu") || return 1
	run_cu user_file "$url" || return 1
	grep '^PASS ' "$R/user_file.results" | cut -d' ' -f2 | sort > "$R/user_file.passed"
	if [ -f "$R/fileio.results" ]; then
		grep '^PASS ' "$R/fileio.results" | cut -d' ' -f2 | sort > "$R/fileio.passed"
		echo "passed by kernel fileio but failed by user:file:"
		comm -23 "$R/fileio.passed" "$R/user_file.passed" | sed 's/^/  /'
		echo "passed by user:file but failed by kernel fileio:"
		comm -13 "$R/fileio.passed" "$R/user_file.passed" | sed 's/^/  /'
	fi
	sed -e 's/#.*//' -e 's/[[:space:]]//g' -e '/^$/d' "$EXPECTED" 2>/dev/null | sort -u > "$TT/expected"
	new=$(comm -13 "$TT/expected" "$R/user_file.passed")
	if [ -n "$new" ]; then
		echo "newly passing (not in expected-pass.txt yet: $(echo "$new" | wc -l)):"
		echo "$new" | sed 's/^/  /'
	fi
	missing=$(comm -23 "$TT/expected" "$R/user_file.passed")
	if [ -n "$missing" ]; then
		echo "REGRESSION: listed in expected-pass.txt but not passing ($(echo "$missing" | wc -l)):"
		echo "$missing" | sed 's/^/  /'
		return 1
	fi
	echo "all $(wc -l < "$TT/expected") expected tests pass"
	iscsi_unexport cu; backstore_delete "$CFS/core/user_1/cu"
	stop_runner TERM 30
}
