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
/// request timeout, so a request still scoring on one is never cut off.
/// </summary>
public sealed class ModelSessionCache(IModelArtifacts artifacts, IOptions<PredictionOptions> options) : IDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<Task<OnnxScorer>>> _sessions = new();
    private readonly LinkedList<string> _recency = new();
    private readonly Lock _gate = new();

    /// <summary>How many times a model was loaded from storage (for tests and diagnostics).</summary>
    public int Loads => _loads;

    private int _loads;

    public async Task<OnnxScorer> GetAsync(ModelVersion version, string tenant, CancellationToken ct)
    {
        string key = $"{tenant}/{version.Model}/{version.Version}/{version.OnnxSha256}";
        Lazy<Task<OnnxScorer>> entry = _sessions.GetOrAdd(key, _ => new Lazy<Task<OnnxScorer>>(() => LoadAsync(version)));
        Touch(key);
        try
        {
            return await entry.Value.WaitAsync(ct);
        }
        catch (Exception) when (entry.Value.IsFaulted)
        {
            // A failed load is not cached: the next request tries again.
            _sessions.TryRemove(KeyValuePair.Create(key, entry));
            throw;
        }
    }

    public int Count => _sessions.Count;

    public void Dispose()
    {
        foreach (Lazy<Task<OnnxScorer>> entry in _sessions.Values)
        {
            if (entry.IsValueCreated && entry.Value.IsCompletedSuccessfully)
            {
                entry.Value.Result.Dispose();
            }
        }
    }

    private async Task<OnnxScorer> LoadAsync(ModelVersion version)
    {
        Interlocked.Increment(ref _loads);
        return new OnnxScorer(await artifacts.ReadOnnxAsync(version, CancellationToken.None));
    }

    private void Touch(string key)
    {
        var evicted = new List<Lazy<Task<OnnxScorer>>>();
        lock (_gate)
        {
            _recency.Remove(key);
            _recency.AddFirst(key);
            while (_recency.Count > options.Value.MaxCachedSessions)
            {
                string oldest = _recency.Last!.Value;
                _recency.RemoveLast();
                if (_sessions.TryRemove(oldest, out Lazy<Task<OnnxScorer>>? gone))
                {
                    evicted.Add(gone);
                }
            }
        }

        foreach (Lazy<Task<OnnxScorer>> gone in evicted)
        {
            _ = Task.Delay(options.Value.RequestTimeout * 2).ContinueWith(
                _ => { if (gone.IsValueCreated && gone.Value.IsCompletedSuccessfully) { gone.Value.Result.Dispose(); } }, TaskScheduler.Default);
        }
    }
}
