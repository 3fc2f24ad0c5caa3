"""JSON Schemas for the three config files; every key has a type and a description."""

GRID_KM_CHOICES = (50, 25, 12.5, 6.25)  # EPSG:3413 cell sizes in km that the grid supports

_LAYER_NAMES = ["ice.sic", "ice.type", "wave.hs", "ais.density", "incidents", "ice.forecast"]
# What each adapter kind cannot work without (docs/sources.md describes every key).
_KIND_REQUIRES = {
    "synthetic": [],
    "http": ["url", "variable"],
    "file": ["path", "variable"],
    "stac": ["url", "collections", "asset", "variable"],
    "cmems": ["dataset_id", "variable"],
    "ais": ["url", "format"],
    "incidents": ["url"],
}
_SOURCE = {
    "type": "object",
    "required": ["kind"],
    "description": "one source adapter; keys beyond these depend on the kind (docs/sources.md)",
    "properties": {
        "kind": {"enum": list(_KIND_REQUIRES), "description": "adapter kind"},
        "layer": {"enum": _LAYER_NAMES, "description": "the layer this source serves"},
        "name": {"type": "string", "pattern": "^[a-z0-9][a-z0-9._-]*$",
                 "description": "cache folder name under <data>/cache/"},
        "description": {"type": "string"},
        "license": {"type": "string", "description": "the licence of the source's data, stated in every artifact made from it"},
        "institution": {"type": "string", "description": "who provides the data (ACDD institution; default: the file's own)"},
        "url": {"type": "string", "description": "URL template, {date:%Y%m%d} style; never with credentials"},
        "token_env": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$",
                      "description": "environment variable holding a bearer token"},
        "available_after_days": {"type": "integer", "minimum": 0, "maximum": 366,
                                 "description": "a 404 for a day this recent is 'not yet available'"},
        "fill_km": {"type": "number", "minimum": 0, "maximum": 5000, "description": "fill sea gaps from the nearest value within"},
        "lead_days": {"type": "integer", "minimum": 1, "maximum": 16,
                      "description": "ice.forecast: valid days after the issue day"},
        # the numbers some kinds read (docs/sources.md): bounded like every other number
        "scale": {"type": "number", "exclusiveMinimum": 0, "maximum": 1e6, "description": "multiply to get the layer's units"},
        "valid_range": {"type": "array", "minItems": 2, "maxItems": 2,
                        "items": {"type": "number", "minimum": -1e12, "maximum": 1e12},
                        "description": "accepted values, in the file's units"},
        "max_at_least": {"type": "number", "minimum": -1e12, "maximum": 1e12},
        "shape": {"type": "array", "minItems": 2, "maxItems": 2, "items": {"type": "integer", "minimum": 1, "maximum": 10**6},
                  "description": "expected (y, x) size of the field"},
        "min_lat": {"type": "number", "minimum": -90, "maximum": 90, "description": "ais: pings south of it are dropped"},
        "max_gap_minutes": {"type": "number", "minimum": 0, "maximum": 1440,
                            "description": "ais: a ping counts for the time to the next, at most this"},
        "chunk_rows": {"type": "integer", "minimum": 1, "maximum": 10**8, "description": "ais: rows read at a time"},
        "bbox": {"type": "array", "minItems": 4, "maxItems": 4, "items": {"type": "number", "minimum": -180, "maximum": 180},
                 "description": "lon/lat box: min_lon, min_lat, max_lon, max_lat"},
        "http": {
            "type": "object",
            "additionalProperties": False,
            "description": "politeness and persistence towards the source's hosts",
            "properties": {
                "timeout_s": {"type": "number", "exclusiveMinimum": 0, "maximum": 3600},
                "retries": {"type": "integer", "minimum": 0, "maximum": 10},
                "backoff_s": {"type": "number", "minimum": 0, "maximum": 3600},
                "backoff_max_s": {"type": "number", "minimum": 0, "maximum": 86400},
                "rate_limit_per_s": {"type": "number", "minimum": 0, "maximum": 10000, "description": "requests per second per host"},
                "deadline_s": {"type": "number", "exclusiveMinimum": 0, "maximum": 86400,
                               "description": "one download, every attempt included, is stopped after this long "
                                              "(default: pull.download_deadline_s in runtime.yaml)"},
                "max_mb": {"type": "number", "exclusiveMinimum": 0, "maximum": 1048576,
                           "description": "largest file (MiB, after Content-Encoding is undone) accepted from the "
                                          "source (default: pull.max_download_mb in runtime.yaml)"},
            },
        },
    },
    "allOf": [{"if": {"properties": {"kind": {"const": kind}}, "required": ["kind"]}, "then": {"required": keys}}
              for kind, keys in _KIND_REQUIRES.items() if keys],
}
_LAYER_SOURCE = {  # the name of one of the profile's available sources, or a source inline
    "if": {"type": "string"},
    "then": {"minLength": 1},
    "else": _SOURCE,
}

ENV_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "paths": {
            "type": "object",
            "additionalProperties": False,
            "description": "data roots; relative paths resolve against the project folder",
            "properties": {
                "data": {"type": "string", "description": "processed layers and risk (ARCTICROUTE_DATA)"},
                "reports": {"type": "string", "description": "monthly HTML reports (ARCTICROUTE_REPORTS)"},
                "outputs": {"type": "string", "description": "routes, runs, logs, alerts (ARCTICROUTE_OUTPUTS)"},
            },
        },
        "profile": {"type": "string", "description": "the profile used when none is given (ARCTICROUTE_PROFILE)"},
        "grid": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "resolution_km": {
                    "enum": list(GRID_KM_CHOICES),
                    "description": "cell size of the EPSG:3413 grid (ARCTICROUTE_GRID_KM)",
                },
            },
        },
        "profiles": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "required": ["synthetic", "sources"],
                "properties": {
                    "description": {"type": "string"},
                    "synthetic": {"type": "boolean", "description": "true when the profile's data is made up"},
                    "sources": {
                        "type": "object",
                        "description": "layer -> its source (a name from available:, or inline); available: name -> source",
                        "propertyNames": {"enum": [*_LAYER_NAMES, "available"]},
                        "properties": {
                            "available": {"type": "object", "additionalProperties": _SOURCE,
                                          "propertyNames": {"pattern": "^[a-z0-9][a-z0-9._-]*$"}},
                        },
                        "additionalProperties": _LAYER_SOURCE,
                    },
                },
            },
        },
    },
}

# Every number has a sane maximum: a value far beyond it is a typo, and a huge integer would
# otherwise end in an OverflowError deep inside (timedelta, numpy) instead of a config error.
_DAYS_MAX = 36500  # a century


def _positive(maximum: float) -> dict:
    return {"type": "number", "exclusiveMinimum": 0, "maximum": maximum}


_FRACTION = {"type": "number", "minimum": 0, "maximum": 1}

# cache.gc and catalog.gc (lib/arcticroute/gc/policy.py holds the defaults; docs/artifacts.md explains them)
GC_OWNERS = ["pull", "fuse", "route", "report", "catalog", "gc"]  # runs.FAMILIES (a test keeps them equal)
GC_KINDS = ["env-layer", "static-grid", "risk-daily", "risk-monthly", "route", "report", "forecast"]  # artifacts.KINDS
_GC = {
    "type": "object",
    "additionalProperties": False,
    "description": "garbage collection: cache folders by age and disk watermark, artifact versions by retention",
    "properties": {
        "ttl_days": {"type": "number", "minimum": 0, "maximum": _DAYS_MAX, "description": "cache.gc removes cache files unused this many days"},
        "watermark_disk": {"type": "number", "exclusiveMinimum": 0, "maximum": 1,
                           "description": "fraction of the data root's filesystem in use at or above which cache.gc "
                                          "evicts the oldest cache files, then superseded versions"},
        "safety_age_minutes": {"type": "number", "minimum": 0, "maximum": 525600,
                               "description": "no GC removes a file younger than this (it may still be being written)"},
        "keep_months": {"type": "integer", "minimum": 1, "maximum": 1200,
                        "description": "catalog.gc keeps every version current during the last N months"},
        "evict_versions": {"type": "boolean",
                           "description": "cache.gc may evict superseded versions (as versions: allows) to reach the watermark"},
        "cache_folders": {
            "type": "array",
            "description": "folders whose files are a cache (replaces the default list)",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["root", "path"],
                "properties": {
                    "root": {"enum": ["data", "outputs"], "description": "the root the path is relative to"},
                    "path": {"type": "string", "pattern": "^(?:\\*|[^/\\\\*]+)(?:/(?:\\*|[^/\\\\*]+))*$",
                             "description": "folder relative to the root; '*' stands for one folder name, e.g. */cv_cache"},
                    "owner": {"enum": GC_OWNERS, "description": "the command family writing there; GC skips the "
                                                                "folder while a run of it is in progress"},
                    "age": {"enum": ["modified", "changed"],
                            "description": "modified: last write or read; changed: also moves (e.g. .quarantine)"},
                    "ttl_days": {"type": "number", "minimum": 0, "maximum": _DAYS_MAX, "description": "this folder's own TTL"},
                },
            },
        },
        "versions": {
            "type": "object",
            "description": "superseded versions per artifact kind (default: any other kind)",
            "propertyNames": {"enum": ["default", *GC_KINDS]},
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "keep_versions": {"type": "integer", "minimum": 1, "maximum": 1000,
                                      "description": "the newest N versions are never removed by any GC"},
                    "min_age_days": {"type": "number", "minimum": 0, "maximum": _DAYS_MAX,
                                     "description": "cache.gc evicts a superseded version only this long after"},
                    "evict": {"type": "boolean", "description": "cache.gc may evict this kind's superseded versions"},
                },
            },
        },
    },
}

RUNTIME_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "$defs": {"job": {
        "type": "object",
        "additionalProperties": False,
        "required": ["at", "steps", "windows_script"],
        "properties": {
            "description": {"type": "string", "description": "one line, shown in the unit and the task"},
            "at": {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$",
                   "description": "start time HH:MM, local time of the machine"},
            "days": {"type": "array", "minItems": 1, "uniqueItems": True,
                     "items": {"enum": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]},
                     "description": "days of the week it runs (default every day)"},
            "random_delay_minutes": {"type": "integer", "minimum": 0, "maximum": 720,
                                     "description": "random delay added to the start (spreads load)"},
            "timeout_minutes": {"type": "integer", "minimum": 1, "maximum": 1440,
                                "description": "the whole job is stopped after this long"},
            "windows_script": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$",
                               "description": "name of deploy/schedule/<name>.ps1 and .xml"},
            "steps": {"type": "array", "minItems": 1, "description": "commands run in order; the first failure stops the job "
                      "(exit 75, another run holds the lock, counts as success)",
                      "items": {"type": "string", "pattern": "^[a-z][a-z0-9_]*(\\.[a-z0-9_]+)*( [A-Za-z0-9_.:=+/-]+)*$",
                                "description": "`<dotted command> [arguments]`, words separated by one space"}},
        },
    }},
    "properties": {
        "logs": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "max_bytes": {"type": "integer", "minimum": 1024, "maximum": 1 << 40, "description": "rotate a log at this size"},
                "backups": {"type": "integer", "minimum": 0, "maximum": 1000, "description": "rotated logs kept per command"},
                "level": {"enum": ["DEBUG", "INFO", "WARNING", "ERROR"]},
            },
        },
        "alerts": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "webhook_timeout_s": _positive(600),
            },
        },
        "risk": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "method": {"enum": ["weighted", "max", "stacking"], "description": "default fusion method"},
                "weights": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {k: {"type": "number", "minimum": 0, "maximum": 1000} for k in ("ice", "wave", "traffic", "incidents")},
                },
                "wave_reference_m": {**_positive(100), "description": "wave height that counts as full hazard"},
                "traffic_reference": {**_positive(1e9), "description": "AIS vessel-hours per 1000 km2 per day that count as full exposure"},
                "incident_window_days": {"type": "integer", "minimum": 1, "maximum": _DAYS_MAX},
                "incident_sigma_km": _positive(5000),
                "incident_exposure_floor": {**_positive(1e9), "description": "vessel-hours per 1000 km2 per day assumed "
                                                                            "where AIS sees no ship"},
                "incident_rate_reference": {**_positive(1e6), "description": "incidents per 1000 vessel-hours counted as "
                                                                            "hazard 1 - 1/e"},
                "store_hazards": {"type": "array", "uniqueItems": True,
                                  "items": {"enum": ["ice", "wave", "traffic", "incidents"]},
                                  "description": "normalised hazards also stored in each daily risk file "
                                                 "(hazard_<name>); none: the fused risk only"},
                "stacking": {
                    "type": "object",
                    "additionalProperties": False,
                    "description": "risk.fuse --method stacking (docs/route-model.md)",
                    "properties": {
                        "train_months": {"type": "integer", "minimum": 1, "maximum": 1200, "description": "months the model is fitted on"},
                        "heldout_months": {"type": "integer", "minimum": 1, "maximum": 1200,
                                           "description": "months after them it is scored on (just before the month fused)"},
                        "min_train_incidents": {"type": "integer", "minimum": 1, "maximum": 10**9,
                                                "description": "fewer incident cell-days to fit on: refused"},
                        "min_heldout_incidents": {"type": "integer", "minimum": 1, "maximum": 10**9,
                                                  "description": "fewer incident cell-days to score on: refused"},
                        "negative_fraction": {"type": "number", "exclusiveMinimum": 0, "maximum": 1,
                                              "description": "share of cell-days without incident kept for fitting"},
                    },
                },
            },
        },
        "route": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "risk_weight": {"type": "number", "minimum": 0, "maximum": 1000, "description": "extra cost per unit risk, in units of distance"},
                "ukc": {
                    "type": "object", "additionalProperties": False,
                    "description": "default under-keel clearance: max(min_m, fraction x draught)",
                    "properties": {"min_m": {"type": "number", "minimum": 0, "maximum": 100},
                                   "fraction": {"type": "number", "minimum": 0, "maximum": 10}},
                },
                "bathymetry": {
                    "type": "object", "additionalProperties": False,
                    "description": "relief the depth layer is built from (docs/route-model.md, Depth and draught)",
                    "properties": {
                        "kind": {"enum": ["embedded", "file"]},
                        "path": {"type": "string", "description": "kind file: lat/lon netCDF (GEBCO, IBCAO), relative "
                                                                  "to the project folder"},
                        "variable": {"type": "string", "description": "elevation variable (GEBCO: elevation)"},
                        "description": {"type": "string"}, "license": {"type": "string"},
                        "source_url": {"type": "string"},
                    },
                },
                "min_speed_kn": {"type": "number", "minimum": 0, "maximum": 100,
                                 "description": "lowest sustained speed over any min_speed_window_nm: slower is beset risk"},
                "min_speed_window_nm": {"type": "number", "exclusiveMinimum": 0, "maximum": 100000},
                "time_dependent": {"type": "boolean",
                                   "description": "price each step on the conditions of the day it is sailed "
                                                  "(false: the departure day's)"},
                "wait": {
                    "type": "object", "additionalProperties": False,
                    "description": "waiting at a cell for a later day's conditions (time-dependent search)",
                    "properties": {
                        "max_hours": {"type": "number", "minimum": 0, "maximum": 240,
                                      "description": "longest wait before a step, hours (0: never wait)"},
                        "cost_per_hour": {"type": "number", "minimum": 0, "maximum": 100,
                                          "description": "cost hours added per hour waited (1: as an hour sailed)"},
                    },
                },
            },
        },
        "pull": {
            "type": "object",
            "additionalProperties": False,
            "description": "ingest.nrt.pull's limits on what the sources' servers may cost",
            "properties": {
                "download_deadline_s": {"type": "number", "exclusiveMinimum": 0, "maximum": 86400,
                                        "description": "one download, every attempt included, is stopped after this "
                                                       "long (a source's http.deadline_s overrides)"},
                "run_deadline_s": {"type": "number", "exclusiveMinimum": 0, "maximum": 604800,
                                   "description": "no download goes on after the pull has run this long"},
                "max_download_mb": {"type": "number", "exclusiveMinimum": 0, "maximum": 1048576,
                                    "description": "largest file (MiB, decoded) accepted from a source (a source's "
                                                   "http.max_mb overrides)"},
            },
        },
        "storage": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "latlon_in_every_file": {"type": "boolean",
                                         "description": "lat/lon auxiliary coordinates in every layer and risk file "
                                                        "(false: in the static grid file only)"},
            },
        },
        "gc": _GC,
        "health": {
            "type": "object",
            "additionalProperties": False,
            "description": "what health.check calls warn and fail",
            "properties": {
                "disk_warn_fraction": {**_FRACTION, "description": "disk use that warns when no gc.watermark_disk is set"},
                "disk_fail_fraction": {**_FRACTION, "description": "disk use that fails the health check"},
                "freshness_max_hours": {
                    "type": "object",
                    "propertyNames": {"enum": ["ice.sic", "ice.type", "wave.hs", "ais.density", "incidents", "risk"]},
                    "additionalProperties": _positive(87600),
                    "description": "age of a layer's newest data (hours) above which it warns",
                },
                "scheduled_commands": {"type": "array", "items": {"type": "string"},
                                       "description": "commands whose last run must have succeeded recently"},
                "last_run_max_hours": {**_positive(87600), "description": "a scheduled command's last run older than this warns"},
                "runs_scanned": {"type": "integer", "minimum": 1, "maximum": 10**6, "description": "newest run records read"},
                "sample_verify": {"type": "integer", "minimum": 0, "maximum": 10**4, "description": "newest artifacts verified per check"},
                "logs_max_mb": {**_positive(10**7), "description": "log folder size above which it warns"},
                "timers": {"type": "array", "items": {"type": "string"},
                           "description": "timer names checked with systemd (arcticroute-<name>.timer) or Task Scheduler"},
                "cache_seconds": {"type": "number", "minimum": 0, "maximum": 86400, "description": "how long /api/health reuses a result"},
            },
        },
        "metrics": {
            "type": "object",
            "additionalProperties": False,
            "description": "Prometheus metrics (/metrics on the UI's port, and a textfile after every run)",
            "properties": {
                "textfile": {"type": "string", "examples": ["metrics/arcticroute.prom"],
                             "description": "node_exporter textfile written after every run, relative to the "
                                            "outputs root or absolute, ending in .prom; empty: none",
                             "pattern": "^$|\\.prom$"},
            },
        },
        "stac": {
            "type": "object",
            "additionalProperties": False,
            "description": "the static STAC catalog that catalog.show/catalog.verify --stac write",
            "properties": {
                "folder": {"type": "string", "minLength": 1, "examples": ["stac"],
                           "description": "folder of catalog.json, relative to the outputs root or absolute; "
                                          "served at /api/stac/ on the UI's port"},
            },
        },
        "schedule": {
            "type": "object",
            "description": "jobs the OS schedulers run (systemd timers, Task Scheduler); deploy/render_schedule.py "
                           "writes both from here",
            "propertyNames": {"pattern": "^[a-z][a-z0-9]*$"},
            "additionalProperties": {"$ref": "#/$defs/job"},
        },
    },
}

_POSITION = {"type": "array", "items": {"type": "number", "minimum": -180, "maximum": 180}, "minItems": 2, "maxItems": 2}

SCENARIOS_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["vessels", "scenarios"],
    "properties": {
        "vessels": {
            "type": "object",
            "minProperties": 1,
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "required": ["ice_class", "speed_kn"],
                "properties": {
                    "description": {"type": "string"},
                    "ice_class": {"type": "string", "description": "PC1..PC7, IA Super, IA, IB, IC, none, or an RS class "
                                                                   "Arc4..Arc9 / Ice1..Ice3 (POLARIS decides where it may go)"},
                    "max_sic": {**_FRACTION, "description": "optional extra limit: highest sea-ice concentration entered"},
                    "max_wave_m": {**_positive(100), "description": "optional extra limit: highest significant wave height entered"},
                    "speed_kn": {**_positive(100), "description": "open-water service speed"},
                    "draught_m": {**_positive(100), "description": "draught, metres: water shallower than draught + "
                                                                 "under-keel clearance is never entered"},
                    "ukc_m": {"type": "number", "minimum": 0, "maximum": 100,
                              "description": "under-keel clearance, metres (default: runtime.yaml route.ukc rule)"},
                },
            },
        },
        "scenarios": {
            "type": "object",
            "minProperties": 1,
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "required": ["from", "to", "vessel"],
                "properties": {
                    "description": {"type": "string"},
                    "from": {"$ref": "#/$defs/place"},
                    "to": {"$ref": "#/$defs/place"},
                    "vessel": {"type": "string"},
                    "assume_escort": {"type": "boolean",
                                      "description": "icebreaker escort assumed: a beset-risk route is kept, flagged"},
                    "onward": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["to", "waypoints"],
                        "description": "a leg beyond the polar grid, sailed along fixed waypoints",
                        "properties": {
                            "to": {"type": "string"},
                            "waypoints": {"type": "array", "minItems": 2, "items": _POSITION},
                        },
                    },
                },
            },
        },
    },
    "$defs": {
        "place": {
            "type": "object",
            "additionalProperties": False,
            "required": ["name", "lat", "lon"],
            "properties": {
                "name": {"type": "string"},
                "lat": {"type": "number", "minimum": -90, "maximum": 90},
                "lon": {"type": "number", "minimum": -180, "maximum": 180},
            },
        }
    },
}

# config/sea_area_rules.yaml (route/rules.py): sea-area rules as data, each row citing a source.
_MODES = {"type": "string", "pattern": "^[+-]{3}$", "description": "heavy, medium, light: + permitted, - not"}
_CITED = {"source": {"type": "string", "description": "a key of sources"},
          "checked": {"type": "boolean", "description": "compared with the text of the source named"}}
SEA_RULES_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["schema_version", "sources", "class_map", "ice_conditions", "regions", "seasons", "nsr_criteria"],
    "properties": {
        "schema_version": {"const": 1},
        "sources": {"type": "object", "minProperties": 1, "additionalProperties": {
            "type": "object", "additionalProperties": False, "required": ["title"],
            "properties": {"title": {"type": "string"}, "url": {"type": "string"}}}},
        "class_map": {"type": "array", "minItems": 1, "items": {
            "type": "object", "additionalProperties": False, "required": ["from", "to", "source"],
            "properties": {"from": {"type": "array", "minItems": 1, "items": {"type": "string"}},
                           "to": {"type": "string"}, **_CITED}}},
        "ice_conditions": {
            "type": "object", "additionalProperties": False,
            "required": ["source", "open_below", "corridor_nm", "heavy", "medium"],
            "properties": {
                "source": {"type": "string"}, "open_below": _FRACTION,
                "corridor_nm": {"type": "number", "minimum": 0, "maximum": 200},
                **{kind: {"type": "array", "items": {
                    "type": "object", "additionalProperties": False, "required": ["min_tenths", "min_stage"],
                    "properties": {"min_tenths": {"type": "integer", "minimum": 1, "maximum": 10},
                                   "min_stage": {"type": "integer", "minimum": 1, "maximum": 11}}}}
                   for kind in ("heavy", "medium")}}},
        "regions": {"type": "array", "minItems": 1, "items": {
            "type": "object", "additionalProperties": False, "required": ["id", "name", "regime", "polygon", "source"],
            "properties": {"id": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"}, "name": {"type": "string"},
                           "regime": {"enum": ["nsr", "canada"]}, **_CITED,
                           "polygon": {"type": "array", "minItems": 3, "items": {
                               "type": "array", "minItems": 2, "maxItems": 2,
                               "prefixItems": [{"type": "number", "minimum": -180, "maximum": 360},
                                               {"type": "number", "minimum": -90, "maximum": 90}]}}}}},
        "seasons": {"type": "array", "items": {
            "type": "object", "additionalProperties": False, "required": ["regime", "classes", "from", "to", "rule", "source"],
            "properties": {"regime": {"enum": ["nsr", "canada"]}, "classes": {"type": "array", "items": {"type": "string"}},
                           "from": {"type": "string", "pattern": "^[01][0-9]-[0-3][0-9]$"},
                           "to": {"type": "string", "pattern": "^[01][0-9]-[0-3][0-9]$"},
                           "rule": {"type": "string"}, **_CITED}}},
        "nsr_criteria": {"type": "array", "minItems": 1, "items": {
            "type": "object", "additionalProperties": False, "required": ["class", "areas", "independent", "escort", "source"],
            "properties": {"class": {"type": "string"},
                           "areas": {"oneOf": [{"const": "all"}, {"type": "array", "minItems": 1, "items": {"type": "string"}}]},
                           "independent": _MODES, "escort": _MODES,
                           "open_water": {"enum": ["independent", "escort", "not permitted"]}, **_CITED}}},
        "notices": {"type": "array", "items": {
            "type": "object", "additionalProperties": False, "required": ["regime", "text", "source"],
            "properties": {"regime": {"enum": ["nsr", "canada"]}, "text": {"type": "string"}, **_CITED}}},
    },
}
