#!/bin/sh
# The interactive shell through a pseudo-terminal: a command typed and its
# output read, the window size and a resize, the Ctrl-A x escape, the shell's own exit
# status and SIGTERM, with the terminal settings unchanged afterwards.
: "${KTSTR_ASSET_DIR:=${XDG_CACHE_HOME:-$HOME/.cache}/ktstr/test-assets}"
export KTSTR_ASSET_DIR
. "${0%/*}/lib/test-lib.sh"
require_assets
export KTSTR_ACCEL=tcg KTSTR_TEST_KERNEL=$KTSTR_ASSET_KERNEL TERM=xterm

# drive ACTION: run ktstr-vm on a new pseudo-terminal of 30 rows and 100
# columns and do ACTION once the prompt shows:
#   escape   type a command, read its output, resize to 40x120, then Ctrl-A x
#   exit     type 'exit 7'
#   sigterm  send SIGTERM to ktstr-vm
# Writes the terminal output to $T/ACTION.log and prints "status N" and
# "restored yes|no" (the terminal settings after against before).
drive() {
	python3 - "$1" "$T/$1.log" <<'EOF'
import fcntl, os, pty, select, signal, struct, sys, termios, time

action, log_path = sys.argv[1], sys.argv[2]
master, slave = pty.openpty()
fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
before = termios.tcgetattr(slave)
pid = os.fork()
if pid == 0:
    os.setsid()
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
    for fd in (0, 1, 2):
        os.dup2(slave, fd)
    os.execvp("ktstr-vm", ["ktstr-vm"])
seen = b""

def read_until(pattern, timeout):
    global seen
    end = time.time() + timeout
    while time.time() < end:
        ready, _, _ = select.select([master], [], [], 0.2)
        if not ready:
            continue
        try:
            data = os.read(master, 4096)
        except OSError:
            return False
        if not data:
            return False
        seen += data
        if pattern in seen:
            return True
    return False

if read_until(b"# ", 120):
    if action == "escape":
        os.write(master, b"echo $((6*7)); stty size\r")
        read_until(b"30 100", 30)
        # A resize reaches ktstr-vm as SIGWINCH, and the guest terminal follows.
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        time.sleep(1)
        os.write(master, b"stty size\r")
        read_until(b"40 120", 30)
        os.write(master, b"\x01x")
    elif action == "exit":
        os.write(master, b"exit 7\r")
    elif action == "sigterm":
        os.kill(pid, signal.SIGTERM)
deadline = time.time() + 60
status = None
while status is None and time.time() < deadline:
    read_until(b"\0never\0", 0.5)
    done, wait_status = os.waitpid(pid, os.WNOHANG)
    if done:
        status = os.waitstatus_to_exitcode(wait_status)
if status is None:
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
read_until(b"\0never\0", 0.5)
after = termios.tcgetattr(slave)
open(log_path, "wb").write(seen)
print("status", status)
print("restored", "yes" if before == after else "no")
EOF
}

drive escape >"$T/escape.result"
is "$(sed -n 's/^status //p' "$T/escape.result")" 0 'escape: Ctrl-A x exits 0'
is "$(sed -n 's/^restored //p' "$T/escape.result")" yes 'escape: terminal settings restored'
log=$(tr -d '\r' <"$T/escape.log")
like "$log" 'ktstr-vm: kernel 7\.[0-9.]+.*, 1 CPUs \(1n1l1c1t\), [0-9]+ MiB; Ctrl-A x quits' 'escape: banner names kernel and topology'
like "$log" '^42$' 'escape: the typed command ran'
like "$log" '^30 100$' 'escape: the guest terminal has the host window size'
like "$log" '^40 120$' 'escape: a host resize reaches the guest'
like "$log" 'connection to the VM closed \(Ctrl-A x\)' 'escape: says the connection closed'

drive exit >"$T/exit.result"
is "$(sed -n 's/^status //p' "$T/exit.result")" 7 'exit 7: the shell status is the exit status'
is "$(sed -n 's/^restored //p' "$T/exit.result")" yes 'exit 7: terminal settings restored'

drive sigterm >"$T/sigterm.result"
is "$(sed -n 's/^status //p' "$T/sigterm.result")" 143 'SIGTERM: status 143'
is "$(sed -n 's/^restored //p' "$T/sigterm.result")" yes 'SIGTERM: terminal settings restored'
like "$(tr -d '\r' <"$T/sigterm.log")" 'stopped by Terminated' 'SIGTERM: says why it stopped'
done_testing
