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

# A venv for one more Python/Django pair, for the matrix in scripts/test.sh:
#   ensure_matrix_venv NAME PYTHON DJANGO_SPEC   e.g. dj61 3.13 "django>=6.1,<6.2"
# The Python comes from pyenv (python3.12/python3.13 on PATH); Django 6.x
# needs Python 3.12+, which is why it is not in .venv (3.11).
ensure_matrix_venv() {
    local name=$1 version=$2 spec=$3 dir=".venv-$1" base
    if [ ! -x "$dir/bin/python" ]; then
        base=$(command -v "python$version" || true)
        for candidate in /root/.pyenv/versions/"$version"*/bin/python; do
            [ -x "$candidate" ] && base=$candidate
        done
        if [ -z "$base" ]; then
            echo "python$version is missing (pyenv install $version)" >&2
            return 1
        fi
        say "Creating $dir (Python $version)"
        "$base" -m venv "$dir"
    fi
    say "Installing django-order-mail (editable, test extras) with $spec into $dir"
    "$dir/bin/python" -m pip install --quiet --disable-pip-version-check -e ".[test]" "$spec"
}
