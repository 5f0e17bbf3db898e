"""Traffic series for forecasting: readers for every format of the field, splits, scalers, windows.

Formats (all under ``<root>/traffic/<folder>/``):

* METR-LA, PEMS-BAY (DCRNN): ``metr-la.h5`` / ``pems-bay.h5`` (a pandas DataFrame, key ``df``, DatetimeIndex
  at 5 min, one column per sensor; 0 = missing), the sensor graph ``adj_mx.pkl`` / ``adj_mx_bay.pkl``
  (a pickle ``[sensor_ids, id -> index, A]``, A a ``float32 [N, N]`` Gaussian-kernel matrix) and the road
  distances ``distances_la_2012.csv`` / ``distances_bay_2017.csv`` (``from,to,cost``).
* PeMSD7(M) (STGCN): ``V_228.csv`` (no header, ``[T, 228]`` speeds, 44 weekdays x 288 steps) and
  ``W_228.csv`` (``[228, 228]`` distances in metres).
* PEMS03/04/07/08 (ASTGCN): ``PEMS0X.npz`` (key ``data``, ``[T, N, C]``; flow first) and ``PEMS0X.csv``
  (``from,to,cost``); PEMS03 also ``PEMS03.txt``, the sensor ids the csv refers to.
* Los-loop, SZ-taxi (T-GCN): ``los_speed.csv`` / ``sz_speed.csv`` (header = sensor ids, ``[T, N]``) and
  ``los_adj.csv`` / ``sz_adj.csv`` (no header, ``[N, N]`` 0/1).

:func:`load_series` reads one into a :class:`TrafficSeries` (raw values, a missing mask, calendar
covariates, the adjacency). :func:`prepare` turns it into :class:`ForecastData`: chronological window
splits of a lineage (``dcrnn`` 70/10/20 of the windows, ``astgcn`` 60/20/20, ``stgcn`` by days, ``tgcn``
80/20 of the series), a scaler fitted on the training split (exactly invertible), model inputs with
time-of-day / day-of-week covariates, and windows taken by index from the one series tensor: a batch of
windows is gathered when asked for, never a ``[S, 12, N, F]`` copy of the data set.
"""
from graphkit.data.traffic.adjacency import binary_adjacency, gaussian_kernel_adjacency, stgcn_adjacency
from graphkit.data.traffic.files import read_distance_csv, read_h5_speeds, read_sensor_pickle
from graphkit.data.traffic.forecast_data import ForecastData, describe, forecast_task, prepare
from graphkit.data.traffic.scalers import MaxScaler, StandardScaler
from graphkit.data.traffic.series import TrafficFormatError, TrafficSeries, calendar
from graphkit.data.traffic.sets import SERIES, SeriesSpec, load_series
from graphkit.data.traffic.windows import PROTOCOLS, window_starts

__all__ = ["ForecastData", "MaxScaler", "PROTOCOLS", "SERIES", "SeriesSpec", "StandardScaler", "TrafficFormatError",
           "TrafficSeries", "binary_adjacency", "calendar", "describe", "forecast_task",
           "gaussian_kernel_adjacency", "load_series", "prepare", "read_distance_csv", "read_h5_speeds",
           "read_sensor_pickle", "stgcn_adjacency", "window_starts"]
