using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Lepton.Audit;

/// <summary>"Lepton:Audit".</summary>
public sealed class AuditOptions
{
    public const string SectionName = "Lepton:Audit";

    /// <summary>Prediction usage is written to the audit log once per this interval per key, not once per request.</summary>
    public TimeSpan UsageFlushInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// The private key (PEM, EC P-256) that signs the audit logs' tree heads; a Key Vault reference in Azure, a key the dev
    /// host keeps in its state folder locally. Without one, heads are signed with a key made at start-up (and lost at stop).
    /// </summary>
    public string SigningKey { get; set; } = "";

    /// <summary>Entries per append-blob segment of a log, below the service's 50,000 blocks per append blob.</summary>
    [System.ComponentModel.DataAnnotations.Range(2, 49_000)]
    public int MaxEntriesPerSegment { get; set; } = 49_000;

    /// <summary>How often a tenant's grown log gets a new signed tree head (and its partners a witness entry).</summary>
    public TimeSpan TreeHeadInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// How often the audit outbox is swept for entries whose change committed but whose append did not happen, and how
    /// old such a promise must be (younger ones belong to requests still delivering their own).
    /// </summary>
    public TimeSpan OutboxSweepInterval { get; set; } = TimeSpan.FromMinutes(1);

    public TimeSpan OutboxGracePeriod { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// Counts predictions per tenant and key (and, for a collaboration's models, per collaboration and model) in memory;
/// <see cref="UsageFlusher"/> writes the sums to the audit log and the collaboration ledger.
/// </summary>
public sealed class UsageMeter(AuditLog audit, Collaborations.CollaborationLedger ledger, TimeProvider time)
{
    private sealed class Counter
    {
        public long Requests;
        public long Rows;
    }

    private ConcurrentDictionary<(string Tenant, string Key, string Owner, string Model), Counter> _counters = new();

    /// <param name="owner">The model's owner when it is not the caller's tenant (a collaboration's namespace).</param>
    public void Record(string tenant, string keyId, int rows, string? owner = null, string? model = null)
    {
        Counter counter = _counters.GetOrAdd((tenant, keyId, owner ?? "", owner is null ? "" : model ?? ""), _ => new Counter());
        Interlocked.Increment(ref counter.Requests);
        Interlocked.Add(ref counter.Rows, rows);
    }

    public async Task FlushAsync(CancellationToken ct = default)
    {
        // Swap in a fresh table; the old one is complete once in-flight increments on it finish (they are single instructions).
        var full = Interlocked.Exchange(ref _counters, new());
        DateTimeOffset now = time.GetUtcNow();
        foreach (((string tenant, string key, string owner, string model), Counter counter) in full)
        {
            try
            {
                string? collaboration = Collaborations.ModelOwners.CollaborationOf(owner);
                if (collaboration is not null)
                {
                    await ledger.RecordUsageAsync(collaboration, tenant, model, counter.Requests, counter.Rows, now, ct);
                }

                await audit.AppendAsync(tenant, $"{tenant}/key:{key}", AuditActions.PredictionUsage, owner.Length == 0 ? $"{tenant}/models" : $"{owner}/models/{model}",
                    $"{counter.Requests} requests, {counter.Rows} rows until {now:O}", ct: ct);
            }
            catch (Exception) when (!ct.IsCancellationRequested)
            {
                // Storage is away (or the log refused the entry): keep the counts for the next flush rather than lose them.
                Counter kept = _counters.GetOrAdd((tenant, key, owner, model), _ => new Counter());
                Interlocked.Add(ref kept.Requests, counter.Requests);
                Interlocked.Add(ref kept.Rows, counter.Rows);
            }
        }
    }
}
