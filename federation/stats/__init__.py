"""Network statistics for coordinators and managers (DESIGN §8): read-only, across domains,
from the rollups that usage keeps."""
