# Sourced by the test helpers that start servers. free_loopback_port prints a port that nothing on
# 127.0.0.1 answers on, from below the kernel's ephemeral range (32768 and up), so that no client
# connection of a test running beside this one can hold it between the check and the bind.
free_loopback_port() {
    local candidate
    for candidate in $(shuf -i 20000-32000 -n 30); do
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then echo "$candidate"; return; fi
    done
    echo "no free loopback port found in 20000-32000" >&2
    return 1
}
