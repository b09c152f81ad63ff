using System.Text;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Lepton.Collaborations;
using Lepton.Errors;
using Lepton.Storage;

namespace Lepton.Audit;

/// <summary>A signed statement that a tenant's log had <see cref="TreeSize"/> entries with Merkle root <see cref="RootHash"/>.</summary>
public sealed record SignedTreeHead(string Tenant, long TreeSize, string RootHash, DateTimeOffset Timestamp, string KeyId, string PublicKey, string Signature)
{
    /// <summary>The exact bytes the signature covers.</summary>
    public byte[] SignedBytes() => Encoding.UTF8.GetBytes($"lepton-tree-head-v1\n{Tenant}\n{TreeSize}\n{RootHash}\n{Timestamp.UtcDateTime:O}\n{KeyId}");
}

public sealed record InclusionProof(string Tenant, long Seq, long TreeSize, string LeafHash, IReadOnlyList<string> AuditPath, string RootHash);

public sealed record ConsistencyProof(string Tenant, long From, long To, string FromRootHash, string ToRootHash, IReadOnlyList<string> Proof);

/// <summary>
/// Tamper evidence against a full rewrite: the hash chain alone can be recomputed by whoever can write the log, so each
/// tenant's log also gets a Merkle tree (RFC 6962) whose heads are signed with the platform's audit key at intervals,
/// stored next to the log, and witnessed in the chains of the tenant's collaboration partners. Verification checks
/// every signed head against the log: an edited, removed, inserted or reordered entry — even with every hash
/// recomputed — or a cut-off tail no longer matches a head it once matched.
/// </summary>
public sealed class AuditTreeHeads(AuditLog audit, AuditSigner signer, StorageClients storage, CollaborationStore collaborations, TimeProvider time)
{
    private const string Actor = "platform:audit-heads";

    private BlobContainerClient Blobs => storage.PlatformBlobs.GetBlobContainerClient(AuditLog.Container);

    public static string HeadPrefix(string tenant) => $"heads/{tenant}/";

    public static string HeadBlob(string tenant, long size) => $"{HeadPrefix(tenant)}{size:D12}.json";

    /// <summary>Signs the log's current head unless the latest head already covers every entry; returns the head (null for an empty log).</summary>
    public async Task<SignedTreeHead?> SignAsync(string tenant, CancellationToken ct = default)
    {
        List<byte[]> leaves = await LeavesAsync(tenant, ct);
        if (leaves.Count == 0)
        {
            return null;
        }

        IReadOnlyList<SignedTreeHead> heads = await ListAsync(tenant, ct);
        if (heads.Count > 0 && heads[^1].TreeSize == leaves.Count)
        {
            return heads[^1];
        }

        string root = Convert.ToHexStringLower(MerkleTree.Root(leaves, leaves.Count));
        var unsigned = new SignedTreeHead(tenant, leaves.Count, root, time.GetUtcNow(), signer.KeyId, signer.PublicKey, "");
        SignedTreeHead head = unsigned with { Signature = Convert.ToBase64String(signer.Sign(unsigned.SignedBytes())) };
        try
        {
            await Blobs.GetBlobClient(HeadBlob(tenant, head.TreeSize)).UploadAsync(BinaryData.FromObjectAsJson(head, LeptonJson.Options),
                new BlobUploadOptions { Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All } }, ct);
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412)
        {
            // Another instance signed this size first; its head stands.
            return (await ReadHeadAsync(HeadBlob(tenant, head.TreeSize), ct))!;
        }

        await WitnessAsync(head, ct);
        return head;
    }

    public async Task<IReadOnlyList<SignedTreeHead>> ListAsync(string tenant, CancellationToken ct = default)
    {
        var heads = new List<SignedTreeHead>();
        await foreach (BlobItem blob in Blobs.GetBlobsAsync(BlobTraits.None, BlobStates.None, HeadPrefix(tenant), ct))
        {
            if (await ReadHeadAsync(blob.Name, ct) is { } head)
            {
                heads.Add(head);
            }
        }

        return heads.OrderBy(h => h.TreeSize).ToList();
    }

    /// <summary>The audit path of entry <paramref name="seq"/> in the tree of the first <paramref name="size"/> entries (default: the latest signed head's).</summary>
    public async Task<InclusionProof> ProveInclusionAsync(string tenant, long seq, long? size, CancellationToken ct = default)
    {
        List<byte[]> leaves = await LeavesAsync(tenant, ct);
        long treeSize = size ?? (await ListAsync(tenant, ct)).LastOrDefault()?.TreeSize ?? leaves.Count;
        if (treeSize < 1 || treeSize > leaves.Count || seq < 1 || seq > treeSize)
        {
            throw LeptonException.BadRequest($"'seq' must be within 1..size and 'size' within 1..{leaves.Count} (the log's entries).");
        }

        IReadOnlyList<byte[]> path = MerkleTree.InclusionProof(leaves, (int)seq - 1, (int)treeSize);
        return new InclusionProof(tenant, seq, treeSize, Hex(leaves[(int)seq - 1]), path.Select(Hex).ToList(), Hex(MerkleTree.Root(leaves, (int)treeSize)));
    }

    /// <summary>The proof that the tree of <paramref name="to"/> entries extends the tree of <paramref name="from"/> entries.</summary>
    public async Task<ConsistencyProof> ProveConsistencyAsync(string tenant, long from, long? to, CancellationToken ct = default)
    {
        List<byte[]> leaves = await LeavesAsync(tenant, ct);
        long size = to ?? leaves.Count;
        if (from < 1 || from > size || size > leaves.Count)
        {
            throw LeptonException.BadRequest($"'from' must be within 1..to and 'to' within 1..{leaves.Count} (the log's entries).");
        }

        return new ConsistencyProof(tenant, from, size, Hex(MerkleTree.Root(leaves, (int)from)), Hex(MerkleTree.Root(leaves, (int)size)),
            MerkleTree.ConsistencyProof(leaves, (int)from, (int)size).Select(Hex).ToList());
    }

    /// <summary>The hash chain's verification, then every signed head against the log as it is now.</summary>
    public async Task<AuditVerification> VerifyAsync(string tenant, CancellationToken ct = default)
    {
        AuditVerification chain = await audit.VerifyAsync(tenant, ct);
        IReadOnlyList<SignedTreeHead> heads = await ListAsync(tenant, ct);
        List<byte[]> leaves = await LeavesAsync(tenant, ct);
        string? problem = null;
        foreach (SignedTreeHead head in heads)
        {
            problem = Check(head, leaves);
            if (problem is not null)
            {
                break;
            }
        }

        return (problem is null ? chain : chain with { Valid = false, Problem = chain.Problem is null ? problem : $"{chain.Problem}; {problem}" })
            with { SignedHeads = heads.Count, LatestSignedSize = heads.LastOrDefault()?.TreeSize };
    }

    private static string? Check(SignedTreeHead head, List<byte[]> leaves)
    {
        string when = head.Timestamp.UtcDateTime.ToString("O");
        if (head.KeyId != AuditSigner.KeyIdOf(Convert.FromBase64String(head.PublicKey))
            || !AuditSigner.Verify(head.PublicKey, head.SignedBytes(), Convert.FromBase64String(head.Signature)))
        {
            return $"the tree head of {head.TreeSize} entries signed at {when} has an invalid signature";
        }

        if (head.TreeSize > leaves.Count)
        {
            return $"the log was cut off: a head signed at {when} covers {head.TreeSize} entries, the log now has {leaves.Count}";
        }

        return Hex(MerkleTree.Root(leaves, (int)head.TreeSize)) == head.RootHash
            ? null
            : $"the first {head.TreeSize} entries were rewritten after a head signed at {when}: they no longer have its Merkle root";
    }

    /// <summary>Each partner in an active collaboration records the head in its own chain, so the platform alone cannot retract it.</summary>
    private async Task WitnessAsync(SignedTreeHead head, CancellationToken ct)
    {
        IEnumerable<string> partners = (await collaborations.ListForMemberAsync(head.Tenant, ct))
            .Where(c => c.State == CollaborationStates.Active)
            .SelectMany(c => c.CurrentMembers)
            .Where(m => m != head.Tenant)
            .Distinct(StringComparer.Ordinal);
        foreach (string partner in partners)
        {
            await audit.AppendAsync(partner, Actor, AuditActions.TreeHeadWitnessed, $"tenants/{head.Tenant}/audit",
                $"size {head.TreeSize}, root {head.RootHash}, key {head.KeyId}", ct: ct);
        }
    }

    private async Task<List<byte[]>> LeavesAsync(string tenant, CancellationToken ct) =>
        (await audit.ReadLinesAsync(tenant, ct)).Select(line => MerkleTree.LeafHash(Encoding.UTF8.GetBytes(line))).ToList();

    private async Task<SignedTreeHead?> ReadHeadAsync(string blob, CancellationToken ct)
    {
        try
        {
            return (await Blobs.GetBlobClient(blob).DownloadContentAsync(ct)).Value.Content.ToObjectFromJson<SignedTreeHead>(LeptonJson.Options);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }

    private static string Hex(byte[] hash) => Convert.ToHexStringLower(hash);
}
