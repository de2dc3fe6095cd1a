# Sourced by ./jnic and .ci/run: sets JAVA_HOME to a JDK >= $JNIC_MIN_JDK (default 25), or fails
# naming every place it looked. Order: JAVA_HOME, java on PATH, then the usual install locations.
# The jars' launcher (launcher/.../Launcher.java, JDK_DIRS) searches the same places: change both together.
JNIC_MIN_JDK=${JNIC_MIN_JDK:-25}

jnic_jdk_major() { # $1 = JDK home; prints its feature version, nothing if it is not a JDK
  local home=$1 v=""
  [ -x "$home/bin/java" ] && [ -x "$home/bin/javac" ] || return 0
  if [ -r "$home/release" ]; then
    v=$(sed -n 's/^JAVA_VERSION="\([^"]*\)".*/\1/p' "$home/release")
  fi
  if [ -z "$v" ]; then
    v=$("$home/bin/java" -version 2>&1 | sed -n 's/.*version "\([^"]*\)".*/\1/p' | head -n1)
  fi
  v=${v#1.}
  printf '%s\n' "${v%%[.+-]*}"
}

jnic_find_jdk() {
  local looked=() cand best="" best_v=0 v
  if [ -n "${JAVA_HOME:-}" ]; then
    looked+=("JAVA_HOME=$JAVA_HOME")
    v=$(jnic_jdk_major "$JAVA_HOME")
    if [ -n "$v" ] && [ "$v" -ge "$JNIC_MIN_JDK" ]; then return 0; fi
  fi
  if command -v java >/dev/null 2>&1; then
    cand=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")
    looked+=("java on PATH ($cand)")
    v=$(jnic_jdk_major "$cand")
    if [ -n "$v" ] && [ "$v" -ge "$JNIC_MIN_JDK" ]; then best=$cand; best_v=$v; fi
  fi
  local dirs=(/usr/lib/jvm/* /usr/java/* /opt/java/* /opt/jdk* "$HOME"/.sdkman/candidates/java/* "$HOME"/.jdks/*)
  looked+=("/usr/lib/jvm/* /usr/java/* /opt/java/* /opt/jdk* ~/.sdkman/candidates/java/* ~/.jdks/*")
  for cand in "${dirs[@]}"; do
    [ -d "$cand" ] || continue
    v=$(jnic_jdk_major "$cand")
    if [ -n "$v" ] && [ "$v" -ge "$JNIC_MIN_JDK" ] && [ "$v" -gt "$best_v" ]; then best=$cand; best_v=$v; fi
  done
  if [ -z "$best" ]; then
    {
      echo "jnic: no JDK >= $JNIC_MIN_JDK found. Looked at:"
      printf '  - %s\n' "${looked[@]}"
      echo "Install one (e.g. Temurin 25 under /usr/lib/jvm) or set JAVA_HOME to it."
    } >&2
    return 1
  fi
  export JAVA_HOME=$best
}
