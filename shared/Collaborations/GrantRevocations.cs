using Lepton.Security;
using Lepton.Training;

namespace Lepton.Collaborations;

/// <summary>
/// Purpose limits that follow data into models: when a grant is revoked, every model version trained under it is marked
/// grantRevoked, and stops serving where the grant said revokeModels (or its member left a collaboration whose terms say
/// revokeModelsOnLeave). Recorded in the chains of the owner and, for a collaboration's models, of every member.
/// </summary>
public sealed class GrantRevocations(ModelRegistry registry, CollaborationStore collaborations) : IGrantDependents
{
    public async Task GrantRevokedAsync(Grant grant, string actor, CancellationToken ct)
    {
        Collaboration? c = grant.Collaboration is { } id ? await collaborations.FindAsync(id, ct) : null;
        bool left = c is not null && !c.IsMember(grant.Owner);
        bool stop = grant.RevokeModels || (left && c!.Terms.RevokeModelsOnLeave);
        string reason = left
            ? $"member '{grant.Owner}' left the collaboration; its grant {grant.GrantId} on '{grant.Dataset}' ended"
            : $"grant {grant.GrantId} of '{grant.Owner}' on '{grant.Dataset}' was revoked";
        IReadOnlyList<string> members = c?.Members.Select(m => m.Tenant).ToList() ?? [];
        await registry.MarkGrantRevokedAsync(grant.GrantId, reason, stop,
            owner => ModelOwners.CollaborationOf(owner) is null ? [owner, grant.Owner] : members.Append(grant.Owner).Distinct().ToList(), actor, ct);
    }
}

/// <summary>The lifecycle operations of a collaboration that reach beyond its own row: leaving withdraws the member's data.</summary>
public sealed class CollaborationLifecycle(CollaborationStore collaborations, GrantStore grants)
{
    public async Task<Collaboration> LeaveAsync(string id, string member, string actor, CancellationToken ct = default)
    {
        Collaboration left = await collaborations.LeaveAsync(id, member, actor, ct);
        foreach (Grant grant in await grants.ListActiveForCollaborationAsync(member, id, ct))
        {
            await grants.RevokeAsync(member, grant.Dataset, grant.GrantId, actor, ct);
        }

        return left;
    }
}
