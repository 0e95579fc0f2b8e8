# SPDX-License-Identifier: MIT
# flamegraph in a real browser: headless Chromium, driven through its
# DevTools protocol over a pipe (tests/lib/cdp.py), loads the SVG, shows a
# frame's details on hover, searches by regular expression from the Search
# button and from Ctrl-F (the matched share counts each sample once, even
# under the recursive dispatcher), clears with Escape, zooms into a frame
# on a click and resets. tests/lib/flamegraph.py says what it checks.
# timeout: 120

need_test_tool Chromium /usr/bin/chromium chromium chromium-browser google-chrome
export SPROF_TEST_CHROMIUM=$TEST_TOOL

profile p.bin "$BIN/split" 500 >/dev/null 2>err.txt
expect_stderr_clean err.txt
flat_rows rows p.bin
report flamegraph -o fg.svg p.bin
pycheck flamegraph.py browser fg.svg --search "work_a=$(total_of rows work_a)" \
    --ctrl-f "^dispatch\$=$(total_of rows dispatch)" --zoom work_b --log chromium.log

# the icicle graph works the same
report flamegraph --inverted -o icicle.svg p.bin
pycheck flamegraph.py browser icicle.svg --search "work_[bc]=$(($(total_of rows work_b) + $(total_of rows work_c)))" \
    --ctrl-f "^main\$=$(total_of rows main)" --zoom work_a --log chromium.log
