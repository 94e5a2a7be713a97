#!/usr/bin/env bash
# The README's window screenshots: the real window on a virtual screen (Xvfb), driven with
# keys through xdotool as a user would, grabbed with ImageMagick's `import`.
# Needs: apt-get install xvfb xdotool imagemagick; emviz installed (pip install -e .).
# Usage: bash assets/screenshots.sh            (writes assets/window-*.png)
#        ONLY=window-old-faithful bash assets/screenshots.sh   (one of them)
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python}
display=${SCREENSHOT_DISPLAY:-77}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A million points for the dense shots, drawn as the window's Generate draws them.
if [ -z "${ONLY:-}" ] || [[ $ONLY == window-million* ]]; then "$python" - "$work/million.csv" <<'EOF'
import sys
import numpy as np
from emviz.data import generate
points = generate(1_000_000, 3, separation=3.0, seed=2).points
np.savetxt(sys.argv[1], points, delimiter=",", header="x,y", comments="", fmt="%.6f")
EOF
fi

# shot NAME WIDTHxHEIGHT SECONDS KEYS... -- EMVIZ-ARGUMENTS...
# Opens the window on a screen of that size, presses the keys (a number is a pause in
# seconds), waits SECONDS, and grabs the whole screen.
shot() {
    local name=$1 size=$2 settle=$3
    if [ -n "${ONLY:-}" ] && [ "$ONLY" != "$name" ]; then return 0; fi
    shift 3
    local keys=()
    while [ "$1" != "--" ]; do keys+=("$1"); shift; done
    shift
    Xvfb ":$display" -screen 0 "${size}x24" -nolisten tcp >/dev/null 2>&1 &
    local xvfb=$!
    sleep 1
    DISPLAY=":$display" QT_QPA_PLATFORM=xcb "$python" -m emviz "$@" >"$work/$name.log" 2>&1 &
    local app=$!
    DISPLAY=":$display" xdotool search --sync --onlyvisible --name emviz >/dev/null
    sleep 3
    local window
    window=$(DISPLAY=":$display" xdotool search --onlyvisible --name emviz | head -n 1)
    DISPLAY=":$display" xdotool windowfocus --sync "$window" 2>/dev/null || true
    for key in "${keys[@]}"; do
        if [[ $key =~ ^[0-9.]+$ ]]; then sleep "$key"; else DISPLAY=":$display" xdotool key "$key"; fi
    done
    sleep "$settle"
    # the pointer off the canvas (the handles for dragging the start show only under it)
    DISPLAY=":$display" xdotool mousemove "${size%x*}" "${size#*x}"
    sleep 1
    DISPLAY=":$display" import -window "$window" "assets/$name.png"
    kill "$app" 2>/dev/null || true
    wait "$app" 2>/dev/null || true
    kill "$xvfb" 2>/dev/null || true
    wait "$xvfb" 2>/dev/null || true
    echo "assets/$name.png"
}

# The article preset run to convergence at the fastest speed (seed 1, its 42 iterations).
fast=(plus plus plus plus plus plus)
shot window-1920x1080 1920x1080 14 "${fast[@]}" space -- article
shot window-1280x720 1280x720 14 "${fast[@]}" space -- article
shot window-presentation 1920x1080 14 F11 1 "${fast[@]}" space -- article
shot window-old-faithful 1920x1080 12 "${fast[@]}" space -- old-faithful
shot window-million 1920x1080 25 "${fast[@]}" space -- "$work/million.csv"
shot window-million-1280x720 1280x720 25 "${fast[@]}" space -- "$work/million.csv"
