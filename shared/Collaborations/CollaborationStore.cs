using Lepton.Api;
using Microsoft.Extensions.Caching.Memory;
using System.Collections.Concurrent;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Lepton.Audit;
using Lepton.Errors;
using Lepton.Ingestion;
using Lepton.Storage;
using Lepton.Tenancy;
using Lepton.Training;

namespace Lepton.Collaborations;

/// <summary>
/// Collaboration agreements in the platform account: one table row per collaboration holding its document, changed only
/// under the row's ETag so two members acting at once cannot lose each other's acceptance. Every change is appended to
/// the audit chain of every member (those who left included, for the change that concerns them).
/// </summary>
public sealed class CollaborationStore(StorageClients storage, TenantRegistry tenants, AuditLog audit, AuditOutbox outbox, TimeProvider time, IMemoryCache cache)
{
    internal const string TableName = "collaborations";
    private const string Partition = "collaboration";
    public const int MaxMembers = 32;

    /// <summary>Membership is checked on every collaboration request; a change made elsewhere is seen within this time.</summary>
    public static readonly TimeSpan CacheLifetime = TimeSpan.FromSeconds(1);

    private readonly RefreshingReads<string, Collaboration?> _reads = new(cache, time, () => CacheLifetime);

    private TableClient Table => storage.PlatformTable(TableName);

    public Task EnsureTableAsync(CancellationToken ct = default) => Table.CreateIfNotExistsAsync(ct);

    public async Task<Collaboration> ProposeAsync(string proposer, CollaborationProposal body, string actor, CancellationToken ct = default)
    {
        if (!Names.IsValidDataset(body.Id))
        {
            throw LeptonException.BadRequest($"'id' must be {Names.DatasetRule}.");
        }

        string name = ValidName(body.Name ?? body.Id!);
        List<string> members = (body.Members ?? []).Distinct(StringComparer.Ordinal).ToList();
        if (!members.Contains(proposer))
        {
            members.Insert(0, proposer);
        }

        if (members.Count is < 2 or > MaxMembers)
        {
            throw LeptonException.BadRequest($"'members' must name 2 to {MaxMembers} tenants, the proposer included.");
        }

        foreach (string member in members)
        {
            if (await tenants.FindAsync(member, ct) is not { Disabled: false })
            {
                throw LeptonException.BadRequest($"'members' names '{member}', which is not an active tenant.");
            }
        }

        CollaborationTask task = ValidTask(body.Task);
        string mode = body.Mode ?? CollaborationModes.Pooled;
        if (!CollaborationModes.All.Contains(mode))
        {
            throw LeptonException.BadRequest($"'mode' must be one of {string.Join(", ", CollaborationModes.All)}.");
        }

        string allocation = ValidAllocation(body.Allocation ?? AllocationMethods.Shapley);
        CollaborationTerms terms = ValidTerms(body.Terms, new CollaborationTerms(10, false, 0, 0.2));
        DateTimeOffset now = time.GetUtcNow();
        // The proposal is the proposer's acceptance of its own terms.
        var collaboration = new Collaboration(body.Id!, name, proposer,
            members.Select(m => new CollaborationMember(m, m == proposer ? now : null, null)).ToList(),
            task, mode, allocation, terms, CollaborationStates.Proposed, 1, now, now);
        try
        {
            await outbox.CommitAsync(Table, Partition, [new TableTransactionAction(TableTransactionActionType.Add, ToEntity(collaboration))],
                MembersEntry(collaboration, actor, AuditActions.CollaborationProposed, $"{mode}, {allocation}, label {task.Label}, members {string.Join(", ", members)}"), ct);
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            throw LeptonException.Conflict($"A collaboration '{body.Id}' already exists; choose another id.");
        }

        _reads.Forget(collaboration.Id);
        return collaboration;
    }

    public Task<Collaboration> AcceptAsync(string id, string member, string actor, CancellationToken ct = default) =>
        ChangeAsync(id, member, actor, AuditActions.CollaborationAccepted, c =>
        {
            if (c.State == CollaborationStates.Ended)
            {
                throw LeptonException.Conflict($"Collaboration '{id}' has ended.");
            }

            DateTimeOffset now = time.GetUtcNow();
            var members = c.Members.Select(m => m.Tenant == member && m.AcceptedAt is null ? m with { AcceptedAt = now } : m).ToList();
            Collaboration accepted = c with { Members = members };
            return (accepted with { State = accepted.AwaitingAcceptance.Count == 0 ? CollaborationStates.Active : CollaborationStates.Proposed },
                $"revision {c.Revision} accepted by {member}");
        }, ct);

    /// <summary>A change of name, allocation or terms is a new revision: it needs every member's acceptance again.</summary>
    public Task<Collaboration> UpdateAsync(string id, string member, CollaborationChange change, string actor, CancellationToken ct = default) =>
        ChangeAsync(id, member, actor, AuditActions.CollaborationTermsChanged, c =>
        {
            if (change.Name is null && change.Allocation is null && change.Terms is null)
            {
                throw LeptonException.BadRequest("Nothing to change: send 'name', 'allocation' or 'terms'.");
            }

            if (c.State == CollaborationStates.Ended)
            {
                throw LeptonException.Conflict($"Collaboration '{id}' has ended.");
            }

            DateTimeOffset now = time.GetUtcNow();
            Collaboration changed = c with
            {
                Name = change.Name is null ? c.Name : ValidName(change.Name),
                Allocation = change.Allocation is null ? c.Allocation : ValidAllocation(change.Allocation),
                Terms = ValidTerms(change.Terms, c.Terms),
                Revision = c.Revision + 1,
                State = CollaborationStates.Proposed,
                Members = c.Members.Select(m => m with { AcceptedAt = m.Tenant == member ? now : null }).ToList(),
            };
            return (changed, $"revision {changed.Revision} proposed by {member}: {JsonSerializer.Serialize(changed.Terms, LeptonJson.Options)}, allocation {changed.Allocation}");
        }, ct);

    public Task<Collaboration> LeaveAsync(string id, string member, string actor, CancellationToken ct = default) =>
        ChangeAsync(id, member, actor, AuditActions.CollaborationLeft, c =>
        {
            DateTimeOffset now = time.GetUtcNow();
            Collaboration left = c with { Members = c.Members.Select(m => m.Tenant == member ? m with { LeftAt = now } : m).ToList() };
            string state = left.CurrentMembers.Count < 2 ? CollaborationStates.Ended
                : left.AwaitingAcceptance.Count == 0 ? CollaborationStates.Active : CollaborationStates.Proposed;
            return (left with { State = state }, $"{member} left; {left.CurrentMembers.Count} members remain ({state})");
        }, ct);

    /// <summary>The collaboration if it exists (members and non-members alike: callers decide what to reveal).</summary>
    public async Task<Collaboration?> FindAsync(string id, CancellationToken ct = default)
    {
        if (!Names.IsValidDataset(id))
        {
            return null;
        }

        return await _reads.GetAsync(id, async () =>
        {
            NullableResponse<TableEntity> row = await Table.GetEntityIfExistsAsync<TableEntity>(Partition, id, cancellationToken: CancellationToken.None);
            return row.HasValue ? FromEntity(row.Value!) : null;
        }, ct);
    }

    /// <summary>The collaboration for one of its current members; 404 for anyone else, whether it exists or not.</summary>
    public async Task<Collaboration> GetForMemberAsync(string id, string? tenant, CancellationToken ct = default) =>
        await FindAsync(id, ct) is { } c && c.IsMember(tenant) ? c : throw LeptonException.NotFound("No such resource.");

    public async Task<IReadOnlyList<Collaboration>> ListForMemberAsync(string tenant, CancellationToken ct = default)
    {
        var found = new List<Collaboration>();
        await foreach (TableEntity row in Table.QueryAsync<TableEntity>(e => e.PartitionKey == Partition, cancellationToken: ct))
        {
            if (!AuditOutbox.IsPromise(row) && FromEntity(row) is { } c && c.IsMember(tenant))
            {
                found.Add(c);
            }
        }

        return found.OrderBy(c => c.Id, StringComparer.Ordinal).ToList();
    }

    private static PendingAuditEntry MembersEntry(Collaboration c, string actor, string action, string outcome) =>
        new([.. c.Members.Select(m => m.Tenant)], actor, action, $"collaborations/{c.Id}", outcome);

    /// <summary>Appends an event that concerns the whole collaboration to every member's chain.</summary>
    public async Task AuditMembersAsync(Collaboration c, string actor, string action, string outcome, CancellationToken ct = default, string? purpose = null, string? resource = null)
    {
        foreach (string member in c.Members.Select(m => m.Tenant))
        {
            await audit.AppendAsync(member, actor, action, resource ?? $"collaborations/{c.Id}", outcome, purpose, ct);
        }
    }

    private async Task<Collaboration> ChangeAsync(
        string id, string member, string actor, string action, Func<Collaboration, (Collaboration Changed, string Outcome)> change, CancellationToken ct)
    {
        for (int attempt = 0; ; attempt++)
        {
            NullableResponse<TableEntity> row = await Table.GetEntityIfExistsAsync<TableEntity>(Partition, id, cancellationToken: ct);
            Collaboration current = row.HasValue ? FromEntity(row.Value!) : null!;
            if (current is null || !current.IsMember(member))
            {
                throw LeptonException.NotFound("No such resource.");
            }

            (Collaboration changed, string outcome) = change(current);
            changed = changed with { UpdatedAt = time.GetUtcNow() };
            try
            {
                await outbox.CommitAsync(Table, Partition, [new TableTransactionAction(TableTransactionActionType.UpdateReplace, ToEntity(changed), row.Value!.ETag)],
                    MembersEntry(changed, actor, action, outcome), ct);
            }
            catch (RequestFailedException e) when (e.Status == 412 && attempt < 10)
            {
                // Another member changed it meanwhile: apply this change to the new state.
                continue;
            }

            _reads.Forget(id);
            return changed;
        }
    }

    private static string ValidName(string name) =>
        Names.IsValidDisplayName(name) ? name.Trim() : throw LeptonException.BadRequest($"'name' must be {Names.DisplayNameRule}.");

    private static CollaborationTask ValidTask(CollaborationTaskBody? task)
    {
        if (task is null || string.IsNullOrWhiteSpace(task.Label) || task.Label.Length > 200)
        {
            throw LeptonException.BadRequest("'task.label' (the column every member's data must have) is required.");
        }

        if (task.Type is not null && !DatasetSpec.Tasks.Contains(task.Type))
        {
            throw LeptonException.BadRequest($"'task.type' must be one of {string.Join(", ", DatasetSpec.Tasks)}.");
        }

        if (task.Metric is not null)
        {
            IEnumerable<string> allowed = task.Type is null ? DatasetSpec.Tasks.SelectMany(TaskMetrics.Allowed) : TaskMetrics.Allowed(task.Type);
            if (!allowed.Contains(task.Metric))
            {
                throw LeptonException.BadRequest($"'task.metric' must be one of {string.Join(", ", allowed.Distinct())}.");
            }
        }

        return new CollaborationTask(task.Label, task.Type, task.Metric ?? (task.Type is null ? null : TaskMetrics.DefaultMetric(task.Type)));
    }

    private static string ValidAllocation(string allocation) =>
        AllocationMethods.All.Contains(allocation)
            ? allocation
            : throw LeptonException.BadRequest($"'allocation' must be one of {string.Join(", ", AllocationMethods.All)}.");

    private static CollaborationTerms ValidTerms(CollaborationTermsBody? body, CollaborationTerms current)
    {
        if (body is null)
        {
            return current;
        }

        var terms = new CollaborationTerms(
            body.MinRowsPerMember ?? current.MinRowsPerMember,
            body.RevokeModelsOnLeave ?? current.RevokeModelsOnLeave,
            body.CreditsPerThousandPredictions ?? current.CreditsPerThousandPredictions,
            body.EvaluationFraction ?? current.EvaluationFraction,
            body.PrivacyEpsilon ?? current.PrivacyEpsilon,
            body.PrivacyDelta ?? current.PrivacyDelta);
        if (terms.MinRowsPerMember is < 0 or > 100_000_000)
        {
            throw LeptonException.BadRequest("'terms.minRowsPerMember' must be between 0 and 100,000,000.");
        }

        if (!double.IsFinite(terms.CreditsPerThousandPredictions) || terms.CreditsPerThousandPredictions < 0)
        {
            throw LeptonException.BadRequest("'terms.creditsPerThousandPredictions' must be zero or more.");
        }

        if (!(terms.EvaluationFraction is >= 0.05 and <= 0.5))
        {
            throw LeptonException.BadRequest("'terms.evaluationFraction' must be between 0.05 and 0.5.");
        }

        if (terms.PrivacyEpsilon is { } epsilon && !(epsilon > 0 && double.IsFinite(epsilon)) || terms.PrivacyDelta is { } delta && !(delta is > 0 and < 1))
        {
            throw LeptonException.BadRequest("'terms.privacyEpsilon' must be positive and 'terms.privacyDelta' between 0 and 1.");
        }

        return terms;
    }

    private static TableEntity ToEntity(Collaboration c) => new(Partition, c.Id)
    {
        ["Document"] = JsonSerializer.Serialize(c, LeptonJson.Options),
        ["State"] = c.State,
    };

    private static Collaboration FromEntity(TableEntity e) => JsonSerializer.Deserialize<Collaboration>(e.GetString("Document")!, LeptonJson.Options)!;
}
