# The benchmarks' namespace lab, sourced by tracers.sh and monitor-scale.sh: a source, two
# routers and a destination that answers for every address of 10.98.0.0/16, with no ICMP rate
# limits. Needs root, iproute2 and ethtool. `lab_up` builds it (removing leftovers first),
# `lab_down` removes it; callers trap EXIT to lab_down, so it goes also on failure.
lab_ns=(stb-src stb-r1 stb-r2 stb-dst)

lab_down() {
  for n in "${lab_ns[@]}"; do ip netns del "$n" 2>/dev/null || true; done
}

lab_up() {
  lab_down
  for n in "${lab_ns[@]}"; do
    ip netns add "$n"; ip -n "$n" link set lo up
    # No ICMP rate limits in the lab, or loss appears from nowhere.
    ip netns exec "$n" sysctl -qw net.ipv4.icmp_ratelimit=0 net.ipv4.ip_forward=1 \
      net.ipv4.icmp_msgs_per_sec=1000000 net.ipv4.icmp_msgs_burst=1000000
  done
  _lab_link stb-src stb-r1 1; _lab_link stb-r1 stb-r2 2; _lab_link stb-r2 stb-dst 3
  ip -n stb-src route add default via 10.97.1.2
  ip -n stb-r1 route add 10.98.0.0/16 via 10.97.2.2; ip -n stb-r1 route add 10.97.3.0/24 via 10.97.2.2
  ip -n stb-r2 route add 10.97.1.0/24 via 10.97.2.1; ip -n stb-r2 route add 10.98.0.0/16 via 10.97.3.2
  ip -n stb-dst route add default via 10.97.3.1
  # The destination answers for every address of 10.98.0.0/16.
  ip -n stb-dst route add local 10.98.0.0/16 dev lo
}

_lab_link() { # a b subnet-index
  ip link add "$1-$2" netns "$1" type veth peer name "$2-$1" netns "$2"
  for end in "$1:$2:1" "$2:$1:2"; do IFS=: read -r x y h <<<"$end"
    ip -n "$x" addr add "10.97.$3.$h/24" dev "$x-$y"
    ip -n "$x" link set "$x-$y" up
    ip netns exec "$x" ethtool -K "$x-$y" tx off >/dev/null
  done
}

# The lab and a scratch directory ($work), both removed when the script exits, also on failure.
lab_start() {
  work=$(mktemp -d)
  trap 'lab_down; rm -rf "$work"' EXIT
  lab_up
}

# The I-th lab destination (62,500 of them, then they repeat).
lab_address() { echo "10.98.$(( ($1 / 250) % 250 + 1 )).$(( $1 % 250 + 1 ))"; }
