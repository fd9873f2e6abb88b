"""python -m nblib.exercises list | verify [NAME ...] | solution NAME"""
import sys

from nblib.exercises import exercises, source, verify


def main(argv):
    if argv[:1] == ["list"]:
        for exercise in exercises():
            print(f"{exercise.notebook:<24} {exercise.name:<24} {exercise.title}")
        return 0
    if argv[:1] == ["verify"]:
        failures = verify(argv[1:])
        print(f"{len(exercises()) if not argv[1:] else len(argv[1:])} exercises checked, {failures} failed")
        return 1 if failures else 0
    if argv[:1] == ["solution"] and len(argv) == 2:
        print(source(argv[1]))
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
