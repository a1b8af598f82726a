#!/bin/sh
# The completion scripts in the shells that run them: bash, zsh and fish
# complete real command lines; elvish and PowerShell are not installed
# here, so only their text is checked.
. "${0%/*}/lib/test-lib.sh"

# bash: load bash-completion and the script, then call the completion
# function the way readline does, with COMP_WORDS and COMP_CWORD.
run cargo-ktstr completions bash
is "$status" 0 'bash script exits 0'
cp "$out" "$T/cargo.bash"
cat >"$T/complete.bash" <<'SH'
. /usr/share/bash-completion/bash_completion
. "$1"
shift
COMP_WORDS=("$@")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
COMP_LINE="$*"
COMP_POINT=${#COMP_LINE}
COMPREPLY=()
func=$(complete -p "$1" | sed 's/.* -F \([^ ]*\) .*/\1/')
"$func" "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
printf '%s\n' "${COMPREPLY[@]}"
SH
bash_complete() {
	run bash "$T/complete.bash" "$@"
	sort "$out" | tr '\n' ' ' | sed 's/ $//'
}

is "$(bash_complete "$T/cargo.bash" cargo ktstr ker)" 'kernel' 'bash: cargo ktstr ker<TAB>'
build_flags=$(ktstr completions --table |
	awk -F'\t' '$1 == "kernel build" && $2 ~ /^--/ { print $2 }' | sort | tr '\n' ' ')
like "$build_flags" '--force.*--help' 'table lists the kernel build flags'
is "$(bash_complete "$T/cargo.bash" cargo ktstr kernel build --) " "$build_flags" \
	'bash: kernel build --<TAB> lists its flags'
is "$(bash_complete "$T/cargo.bash" cargo kt)" 'ktstr' 'bash: cargo kt<TAB> offers ktstr'
is "$(bash_complete "$T/cargo.bash" cargo ktstr shell --accel '')" 'auto kvm tcg' \
	'bash: --accel offers its choices'
is "$(bash_complete "$T/cargo.bash" cargo ktstr completions '')" \
	'bash elvish fish powershell zsh' 'bash: completions offers the shells'
mkdir -p "$T/srcs/linux-a" "$T/srcs/linux-b"
touch "$T/srcs/linux-file"
is "$(bash_complete "$T/cargo.bash" cargo ktstr kernel build --source "$T/srcs/li")" \
	"$T/srcs/linux-a $T/srcs/linux-b" 'bash: --source offers directories only'
is "$(bash_complete "$T/cargo.bash" cargo ktstr kernel build --source = "$T/srcs/li")" \
	"$T/srcs/linux-a $T/srcs/linux-b" 'bash: --source=VALUE is completed too'
is "$(bash_complete "$T/cargo.bash" cargo ktstr test-stats -d "$T/srcs/" --js)" '--json' \
	'bash: a flag value is skipped'
is "$(bash_complete "$T/cargo.bash" cargo ktstr kernel list --json '')" '' \
	'bash: kernel list takes no arguments'

# Another cargo completion stays in charge of the other subcommands.
cat >"$T/prior.bash" <<'SH'
_prior_cargo() { COMPREPLY=(build-from-prior); }
complete -F _prior_cargo cargo
SH
cat "$T/prior.bash" "$T/cargo.bash" >"$T/both.bash"
is "$(bash_complete "$T/both.bash" cargo bu)" 'build-from-prior' \
	'bash: other cargo subcommands keep their completion'
cat "$T/both.bash" "$T/cargo.bash" >"$T/twice.bash"
is "$(bash_complete "$T/twice.bash" cargo bu)" 'build-from-prior' \
	'bash: loading the script twice keeps the prior completion'

# A cargo completion that bash-completion would load on demand is loaded
# first, so that the script can keep it.
mkdir -p "$T/bc/completions"
cp "$T/prior.bash" "$T/bc/completions/cargo"
export BASH_COMPLETION_USER_DIR="$T/bc"
is "$(bash_complete "$T/cargo.bash" cargo bu)" 'build-from-prior' \
	'bash: an on-demand cargo completion is kept'
cp "$T/cargo.bash" "$T/bc/completions/cargo"
is "$(bash_complete "$T/cargo.bash" cargo ktstr ker)" 'kernel' \
	'bash: script as the cargo file does not loop'

# The script saved as the user's cargo file (which hides the system one
# from bash-completion) still keeps the system's cargo completion.
mkdir -p "$T/sys/bash-completion/completions"
cp "$T/prior.bash" "$T/sys/bash-completion/completions/cargo"
export XDG_DATA_DIRS="$T/sys"
is "$(bash_complete "$T/bc/completions/cargo" cargo bu)" 'build-from-prior' \
	'bash: user cargo file keeps the system one'
is "$(bash_complete "$T/bc/completions/cargo" cargo ktstr kernel l)" 'list' \
	'bash: user cargo file completes ktstr'
unset BASH_COMPLETION_USER_DIR XDG_DATA_DIRS

run ktstr completions bash
cp "$out" "$T/ktstr.bash"
like "$(cat "$T/ktstr.bash")" 'complete -F _ktstr_ktstr .ktstr.' 'ktstr completes ktstr by default'
is "$(bash_complete "$T/ktstr.bash" ktstr kernel c)" 'clean' 'bash: ktstr kernel c<TAB>'
run ktstr completions --binary kt bash
cp "$out" "$T/kt.bash"
is "$(bash_complete "$T/kt.bash" kt test-s)" 'test-stats' 'bash: --binary names the command'

# zsh: syntax, registration through compinit, and one real completion in
# an interactive zsh on a pseudo-terminal (zsh/zpty), which types
# "cargo-ktstr ker<TAB>lis<TAB>" and runs the completed line.
run cargo-ktstr completions zsh
mkdir -p "$T/zfunc"
cp "$out" "$T/zfunc/_cargo-ktstr"
check 'zsh: script parses (zsh -n)' zsh -n "$T/zfunc/_cargo-ktstr"
run zsh -f -c "fpath=('$T/zfunc' \$fpath); autoload -Uz compinit; compinit -u -d '$T/zcompdump'; print -r -- \$_comps[cargo-ktstr]"
is "$(cat "$out")" '_cargo-ktstr' 'zsh: compinit registers _cargo-ktstr'
cat >"$T/zpty.zsh" <<ZSH
zmodload zsh/zpty
zpty shell 'zsh -f -i'
zpty -w shell 'PS1="> "; fpath=($T/zfunc \$fpath); autoload -Uz compinit; compinit -u -d $T/zcompdump2; cargo-ktstr() { print -r -- "RES""ULT[\$*]" }'
zpty -w -n shell \$'cargo-ktstr ker\t'
zpty -w -n shell \$'lis\t\n'
zpty -r shell line '*RESULT\[*\]*'
print -r -- "\${\${line##*RESULT\[}%%\]*}"
zpty -d shell
ZSH
run timeout 60 zsh -f "$T/zpty.zsh"
is "$(tail -n 1 "$out")" 'kernel list' 'zsh: ker<TAB> lis<TAB> completes kernel list'

# fish: syntax, then complete -C as fish would on <TAB>.
run cargo-ktstr completions fish
cp "$out" "$T/cargo.fish"
check 'fish: script parses (fish --no-execute)' fish --no-execute "$T/cargo.fish"
run fish -c "source '$T/cargo.fish'; complete -C 'cargo ktstr ker'"
like "$(cat "$out")" '^kernel	manage cached kernel images' 'fish: cargo ktstr ker<TAB>'
run fish -c "source '$T/cargo.fish'; complete -C 'cargo ktstr kernel clean --'"
like "$(cat "$out")" '--corrupt-only	remove only corrupt entries' 'fish: kernel clean flags'
run fish -c "source '$T/cargo.fish'; complete -C 'cargo ktstr shell --accel '"
is "$(cut -f1 "$out" | tr '\n' ' ')" 'auto kvm tcg ' 'fish: --accel choices'

# elvish and PowerShell: the text names every command and flag of the table.
run ktstr completions --table
cp "$out" "$T/table"
for shell in elvish powershell; do
	run cargo-ktstr completions "$shell"
	is "$status" 0 "$shell script exits 0 (not run: $shell is not installed)"
	cp "$out" "$T/script"
	# Every command path, and every subcommand and flag name, appears quoted:
	# as a map key, or as "FLAG=KIND" in PowerShell's flag lists.
	missing=$(awk -F'\t' '$2 != "ARGS" { print $1; print $2 }' "$T/table" | sort -u |
		while IFS= read -r word; do
			grep -qF -- "'$word'" "$T/script" || grep -qF -- "'$word=" "$T/script" ||
				printf ' [%s]' "$word"
		done)
	is "$missing" '' "$shell script text has every command and flag (not run)"
done
like "$(cargo-ktstr completions elvish)" 'arg-completer\[cargo\]' 'elvish: completes cargo'

# Where elvish is installed (Debian's elvish package), run the completer.
# elvish -norc has no edit: module, so the test binds the completer to a
# variable and lists file candidates as FILES.
if command -v elvish >/dev/null; then
	cargo-ktstr completions elvish | sed \
		-e 's/^set edit:completion:arg-completer\[cargo\] = /var completer = /' \
		-e 's/\$edit:completion:arg-completer\[cargo\]/$nil/' \
		-e 's/has-key \$edit:completion:arg-completer cargo/eq a b/' \
		-e 's/edit:complete-filename/put FILES/' >"$T/cargo.elv"
	cat >"$T/complete.elv" <<ELV
eval (slurp < $T/cargo.elv)'
echo (\$completer cargo ktstr ker | order)
echo (\$completer cargo ktstr kernel build --source "" | order)'
ELV
	run env HOME="$T" elvish -norc "$T/complete.elv"
	like "$(head -n 1 "$out")" '^completions coverage kernel shell test test-stats verifier$' \
		'elvish: cargo ktstr ker<TAB> (edit: stubbed)'
	is "$(sed -n 2p "$out" | sed 's/^ *//; s/ *$//')" 'FILES' 'elvish: --source offers paths (edit: stubbed)'
else
	skip 'elvish: not installed, completer not run'
fi
like "$(cargo-ktstr completions powershell)" "-CommandName 'cargo'" 'powershell: completes cargo'

# Bad input: one line, exit 2, nothing on stdout.
expect_status 2 'unknown shell is a usage error' cargo-ktstr completions tcsh
like "$(head -n 1 "$err")" "unknown shell 'tcsh'; valid shells: bash zsh fish elvish powershell" \
	'unknown shell names the valid ones'
is "$(wc -c <"$out" | tr -d ' ')" 0 'unknown shell prints no script'
expect_status 2 'missing shell is a usage error' cargo-ktstr completions
like "$(head -n 1 "$err")" 'missing SHELL' 'missing shell is named'
expect_status 2 'bad --binary is a usage error' cargo-ktstr completions --binary 'a;b' bash
like "$(head -n 1 "$err")" "invalid --binary 'a;b'" '--binary error names the value'
expect_status 2 'unknown option is a usage error' cargo-ktstr completions --frob bash
like "$(head -n 1 "$err")" "invalid option '--frob'" 'unknown option is named'
expect_status 0 'completions --help exits 0' cargo-ktstr completions --help
like "$(cat "$out")" 'default: cargo' 'cargo-ktstr help names the cargo default'
run ktstr completions --help
like "$(cat "$out")" 'default: ktstr' 'ktstr help names the ktstr default'

done_testing
