#!/bin/sh
# ktstr-fetch --git (a local bare repository) and --source (trees on disk).
. "${0%/*}/lib/test-lib.sh"

git_q() {
	git -c user.name=ktstr -c user.email=ktstr@example.invalid -c init.defaultBranch=master "$@"
}

work=$T/work
cp -R "$KTSTR_SRC/t/fixtures/kernel-tree" "$work"
git_q -C "$work" init -q
git_q -C "$work" add .
git_q -C "$work" commit -qm 'fixture tree'
git_q -C "$work" tag -a v6.14 -m 'annotated tag'
first=$(git -C "$work" rev-parse HEAD)
sed -i 's/^SUBLEVEL = 2/SUBLEVEL = 3/' "$work/Makefile"
git_q -C "$work" commit -qam 'bump to 6.14.3'
git_q -C "$work" branch feature/x
second=$(git -C "$work" rev-parse HEAD)
git_q clone -q --bare "$work" "$T/repo.git"
url=file://$T/repo.git
dest=$T/clones

expect_status 0 'annotated tag resolves without a clone' ktstr-fetch -r --git "$url" --ref v6.14
is "$(jq -r .source.git_hash "$out")" "$first" 'a tag resolves to its commit, not the tag object'
is "$(jq -r .source.type "$out")" git 'source type is git'
is "$(jq -r .source.ref "$out")" v6.14 'the ref is recorded'
is "$(jq -r .source.url "$out")" "$url" 'the URL is recorded'

expect_status 0 'branch resolves' ktstr-fetch -r --git "$url" --ref master --field source.git_hash
is "$(cat "$out")" "$second" 'a branch resolves to its head'

expect_status 0 'tag clones' ktstr-fetch --dest "$dest" --git "$url" --ref v6.14
is "$(jq -r .source_dir "$out")" "$dest/repo-v6.14" 'the clone is named after repository and ref'
is "$(jq -r .source.git_hash "$out")" "$first" 'the clone is at the tag'
is "$(jq -r .version "$out")" 6.14.2 'the version comes from the tree'
is "$(git -C "$dest/repo-v6.14" rev-list --count HEAD)" 1 'the clone is shallow'
like "$(cat "$err")" "cloning $url \\(ref v6.14, depth 1\\)" 'one line per phase off a terminal'

expect_status 0 'second clone is reused' ktstr-fetch --dest "$dest" --git "$url" --ref v6.14
like "$(cat "$err")" 'reusing it' 'reuse is announced'

expect_status 0 'ref with a slash clones' ktstr-fetch --dest "$dest" --git "$url" --ref feature/x --field source_dir
is "$(cat "$out")" "$dest/repo-feature_x" 'a slash in the ref becomes an underscore'

expect_status 0 'full commit id clones' ktstr-fetch --dest "$dest" --git "$url" --ref "$first" --field version
is "$(cat "$out")" 6.14.2 'the clone is at that commit'

expect_status 2 'unknown ref fails' ktstr-fetch --dest "$dest" --git "$url" --ref v9.99
like "$(cat "$err")" "ref 'v9.99' not found in '$url'" 'the ref and repository are named'
one_line_error 'unknown ref error is one line'

expect_status 2 'abbreviated commit id fails' ktstr-fetch -r --git "$url" --ref "$(echo "$first" | cut -c1-12)"
like "$(cat "$err")" 'give all 40 hex digits' 'the fix is named'

expect_status 2 'missing repository fails' ktstr-fetch --dest "$dest" --git "file://$T/none.git" --ref v6.14
like "$(cat "$err")" "cannot list the refs of 'file://$T/none.git'" 'the repository is named'
one_line_error 'missing repository error is one line'
is "$(find "$dest" -maxdepth 1 -name '.*tmp-*' | wc -l | tr -d ' ')" 0 'no temporary clone is left'

expect_status 0 'clean tree is described' ktstr-fetch --source "$work"
is "$(jq -r .source.type "$out")" local 'source type is local'
is "$(jq -r .source_dir "$out")" "$work" 'source_dir is the tree'
is "$(jq -r .source.git_hash "$out")" "$second" 'git_hash is HEAD'
is "$(jq -r .dirty "$out")" false 'a committed tree is clean'
is "$(jq -r .version "$out")" 6.14.3 'the version comes from make kernelversion'

touch "$work/untracked.c"
expect_status 0 'untracked files do not make it dirty' ktstr-fetch --source "$work" --field dirty
is "$(cat "$out")" false 'untracked files are ignored'
echo '/* changed */' >>"$work/init/main.c"
expect_status 0 'modified tree is described' ktstr-fetch --source "$work" --field dirty
is "$(cat "$out")" true 'a change to a tracked file makes it dirty'

plain=$T/plain
cp -R "$KTSTR_SRC/t/fixtures/kernel-tree" "$plain"
expect_status 0 'tree outside git is described' ktstr-fetch --source "$plain"
is "$(jq -r .dirty "$out")" true 'a tree outside git counts as dirty'
is "$(jq -r .source.git_hash "$out")" null 'it has no commit'

expect_status 2 'a directory that is not a kernel tree fails' ktstr-fetch --source "$T/clones"
like "$(cat "$err")" "not a kernel source tree '$T/clones': it has no top-level Makefile and Kconfig" \
	'the directory and the cause are named'
one_line_error 'not-a-tree error is one line'
expect_status 2 'missing directory fails' ktstr-fetch --source "$T/nowhere"
like "$(cat "$err")" "kernel source tree '$T/nowhere' not found" 'missing directory is named'
one_line_error 'missing directory error is one line'
done_testing
