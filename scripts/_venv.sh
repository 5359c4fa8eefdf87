# Sourced by demo.sh and test.sh: `say`, and a .venv with the package installed.
#   ensure_venv EXTRAS   e.g. ensure_venv dev  or  ensure_venv dev,docs
say() { printf '\n\033[1;36m==> %s\033[0m\n' "$*"; }

ensure_venv() {
    if [ ! -x .venv/bin/python ]; then
        say "Creating .venv (Python 3.11)"
        local base
        base=$(command -v python3.11 || true)
        [ -x /root/.pyenv/versions/3.11.7/bin/python ] && base=/root/.pyenv/versions/3.11.7/bin/python
        "${base:-python3}" -m venv .venv
    fi
    PY="$ROOT/.venv/bin/python"
    say "Installing django-order-mail (editable) with the $1 extras"
    "$PY" -m pip install --quiet --disable-pip-version-check -e ".[$1]"
}
