using System.ComponentModel.DataAnnotations;
using System.Collections.Concurrent;
using Lepton.Training;
using Microsoft.Extensions.Options;

namespace Lepton.Prediction;

/// <summary>Where a version's ONNX bytes come from (the registry; a fake in unit tests).</summary>
public interface IModelArtifacts
{
    Task<byte[]> ReadOnnxAsync(ModelVersion version, CancellationToken ct);
}

/// <summary>Serving limits ("Lepton:Prediction").</summary>
public sealed class PredictionOptions
{
    public const string SectionName = "Lepton:Prediction";

    [Range(1, 1_000_000)]
    public int MaxRowsPerRequest { get; set; } = 1000;

    [Range(1024, long.MaxValue)]
    public long MaxBodyBytes { get; set; } = 8 * 1024 * 1024;

    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Loaded model versions kept in memory; the least recently used beyond this are evicted.</summary>
    [Range(1, 10_000)]
    public int MaxCachedSessions { get; set; } = 32;

    public long MaxOnnxBytes { get; set; } = 200L * 1024 * 1024;
}

/// <summary>
/// One ONNX Runtime session per model version, loaded once even under concurrent first requests, shared by all requests
/// (sessions are thread-safe), evicted least-recently-used beyond a count. Evicted sessions are disposed only after the
/// request timeout, so a request still scoring on one is never cut off. A request for a loaded session allocates nothing
/// and takes no lock: it gets the cached task and stamps the entry's last use in the entry itself (a second dictionary of
/// last uses, written on every request, took the same bucket lock for every request to one model: 3.6 % of the predict
/// route's CPU, half of it waiting).
/// </summary>
public sealed class ModelSessionCache(IModelArtifacts artifacts, IOptions<PredictionOptions> options) : IDisposable
{
    private readonly ConcurrentDictionary<SessionKey, Entry> _sessions = new();
    private readonly Lock _evicting = new();
    private long _clock;

    /// <summary>How many times a model was loaded from storage (for tests and diagnostics).</summary>
    public int Loads => _loads;

    private int _loads;

    public Task<OnnxScorer> GetAsync(ModelVersion version, string tenant, CancellationToken ct)
    {
        var key = new SessionKey(tenant, version.Model, version.Version, version.OnnxSha256);
        if (!_sessions.TryGetValue(key, out Entry? entry))
        {
            entry = _sessions.GetOrAdd(key, static (_, state) => new Entry(state.Cache, state.Version), (Cache: this, Version: version));
            Touch(entry);
            // Counting takes every lock of the dictionary: only when an entry may have been added.
            if (_sessions.Count > options.Value.MaxCachedSessions)
            {
                Evict();
            }
        }
        else
        {
            Touch(entry);
        }

        Task<OnnxScorer> loading = entry.Load.Value;
        return loading.IsCompletedSuccessfully ? loading : AwaitLoadAsync(key, entry, ct);
    }

    private async Task<OnnxScorer> AwaitLoadAsync(SessionKey key, Entry entry, CancellationToken ct)
    {
        try
        {
            return await entry.Load.Value.WaitAsync(ct);
        }
        catch (Exception) when (entry.Load.Value.IsFaulted)
        {
            // A failed load is not cached: the next request tries again.
            _sessions.TryRemove(KeyValuePair.Create(key, entry));
            throw;
        }
    }

    public int Count => _sessions.Count;

    public void Dispose()
    {
        foreach (Entry entry in _sessions.Values)
        {
            entry.DisposeLoaded();
        }
    }

    private async Task<OnnxScorer> LoadAsync(ModelVersion version)
    {
        Interlocked.Increment(ref _loads);
        return new OnnxScorer(await artifacts.ReadOnnxAsync(version, CancellationToken.None));
    }

    /// <summary>A logical clock: the order of uses is all eviction needs.</summary>
    private void Touch(Entry entry) => Volatile.Write(ref entry.LastUsed, Tick());

    private long Tick() => Interlocked.Increment(ref _clock);

    private void Evict()
    {
        var evicted = new List<Entry>();
        lock (_evicting)
        {
            while (_sessions.Count > options.Value.MaxCachedSessions)
            {
                KeyValuePair<SessionKey, Entry> oldest = _sessions.MinBy(e => Volatile.Read(ref e.Value.LastUsed));
                if (_sessions.TryRemove(oldest))
                {
                    evicted.Add(oldest.Value);
                }
            }
        }

        foreach (Entry gone in evicted)
        {
            _ = Task.Delay(options.Value.RequestTimeout * 2).ContinueWith(_ => gone.DisposeLoaded(), TaskScheduler.Default);
        }
    }

    /// <summary>A model version as loaded: the same version re-registered with other bytes is another session.</summary>
    private readonly record struct SessionKey(string Tenant, string Model, int Version, string OnnxSha256);

    /// <summary>A cached session: its one load, and the clock of its last use.</summary>
    private sealed class Entry(ModelSessionCache cache, ModelVersion version)
    {
        public readonly Lazy<Task<OnnxScorer>> Load = new(() => cache.LoadAsync(version));

        // Stamped when made, so an eviction on another thread never takes a just-added entry for the oldest.
        public long LastUsed = cache.Tick();

        public void DisposeLoaded()
        {
            if (Load.IsValueCreated && Load.Value.IsCompletedSuccessfully)
            {
                Load.Value.Result.Dispose();
            }
        }
    }
}
