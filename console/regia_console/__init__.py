"""The administrators' web console: server-rendered pages over the four services' HTTP
APIs, plus the live stream of events read straight from the broker. No CDN, no build:
its one CSS file and one small script are served by the console itself."""
