using System.Security.Cryptography;

namespace Lepton.Audit;

/// <summary>
/// The Merkle tree of RFC 6962 / RFC 9162 (certificate transparency) over a log's entries: leaf hashes SHA-256(0x00 ‖ entry),
/// node hashes SHA-256(0x01 ‖ left ‖ right), with inclusion proofs (an entry is in the tree of a signed head) and
/// consistency proofs (a later tree extends an earlier one, so nothing before it was changed or removed).
/// </summary>
public static class MerkleTree
{
    public static byte[] LeafHash(ReadOnlySpan<byte> entry)
    {
        byte[] data = new byte[entry.Length + 1];
        entry.CopyTo(data.AsSpan(1));
        return SHA256.HashData(data);
    }

    public static byte[] NodeHash(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right)
    {
        Span<byte> data = stackalloc byte[1 + left.Length + right.Length];
        data[0] = 1;
        left.CopyTo(data[1..]);
        right.CopyTo(data[(1 + left.Length)..]);
        return SHA256.HashData(data);
    }

    /// <summary>The root of the first <paramref name="size"/> leaves; the empty tree's root is SHA-256 of nothing.</summary>
    public static byte[] Root(IReadOnlyList<byte[]> leaves, int size) => size == 0 ? SHA256.HashData([]) : Subtree(leaves, 0, size);

    /// <summary>PATH(m, D[n]) of RFC 6962 §2.1.1: the audit path of leaf <paramref name="index"/> in the tree of <paramref name="size"/> leaves.</summary>
    public static IReadOnlyList<byte[]> InclusionProof(IReadOnlyList<byte[]> leaves, int index, int size)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, size);
        var proof = new List<byte[]>();
        Path(leaves, index, 0, size, proof);
        return proof;
    }

    /// <summary>PROOF(m, D[n]) of RFC 6962 §2.1.2: shows that the tree of <paramref name="size"/> leaves extends the tree of <paramref name="previous"/> leaves.</summary>
    public static IReadOnlyList<byte[]> ConsistencyProof(IReadOnlyList<byte[]> leaves, int previous, int size)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(previous, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(previous, size);
        var proof = new List<byte[]>();
        if (previous < size)
        {
            SubProof(leaves, previous, 0, size, true, proof);
        }

        return proof;
    }

    /// <summary>RFC 9162 §2.1.3.2: whether <paramref name="proof"/> places <paramref name="leafHash"/> at <paramref name="index"/> under <paramref name="root"/>.</summary>
    public static bool VerifyInclusion(byte[] leafHash, long index, long size, IReadOnlyList<byte[]> proof, byte[] root)
    {
        if (index < 0 || index >= size)
        {
            return false;
        }

        long fn = index, sn = size - 1;
        byte[] r = leafHash;
        foreach (byte[] p in proof)
        {
            if (sn == 0)
            {
                return false;
            }

            if ((fn & 1) == 1 || fn == sn)
            {
                r = NodeHash(p, r);
                while ((fn & 1) == 0 && fn != 0)
                {
                    fn >>= 1;
                    sn >>= 1;
                }
            }
            else
            {
                r = NodeHash(r, p);
            }

            fn >>= 1;
            sn >>= 1;
        }

        return sn == 0 && r.AsSpan().SequenceEqual(root);
    }

    /// <summary>RFC 9162 §2.1.4.2: whether <paramref name="proof"/> shows the tree (<paramref name="size"/>, <paramref name="root"/>) extends (<paramref name="previous"/>, <paramref name="previousRoot"/>).</summary>
    public static bool VerifyConsistency(long previous, long size, byte[] previousRoot, byte[] root, IReadOnlyList<byte[]> proof)
    {
        if (previous < 1 || previous > size)
        {
            return false;
        }

        if (previous == size)
        {
            return proof.Count == 0 && previousRoot.AsSpan().SequenceEqual(root);
        }

        var path = new List<byte[]>(proof);
        if ((previous & (previous - 1)) == 0)
        {
            // A power of two: the first tree is itself a subtree of the second, so it starts the path.
            path.Insert(0, previousRoot);
        }

        if (path.Count == 0)
        {
            return false;
        }

        long fn = previous - 1, sn = size - 1;
        while ((fn & 1) == 1)
        {
            fn >>= 1;
            sn >>= 1;
        }

        byte[] fr = path[0], sr = path[0];
        foreach (byte[] c in path.Skip(1))
        {
            if (sn == 0)
            {
                return false;
            }

            if ((fn & 1) == 1 || fn == sn)
            {
                fr = NodeHash(c, fr);
                sr = NodeHash(c, sr);
                while ((fn & 1) == 0 && fn != 0)
                {
                    fn >>= 1;
                    sn >>= 1;
                }
            }
            else
            {
                sr = NodeHash(sr, c);
            }

            fn >>= 1;
            sn >>= 1;
        }

        return sn == 0 && fr.AsSpan().SequenceEqual(previousRoot) && sr.AsSpan().SequenceEqual(root);
    }

    private static byte[] Subtree(IReadOnlyList<byte[]> leaves, int start, int count)
    {
        if (count == 1)
        {
            return leaves[start];
        }

        int k = SplitPoint(count);
        return NodeHash(Subtree(leaves, start, k), Subtree(leaves, start + k, count - k));
    }

    private static void Path(IReadOnlyList<byte[]> leaves, int index, int start, int count, List<byte[]> proof)
    {
        if (count <= 1)
        {
            return;
        }

        int k = SplitPoint(count);
        if (index < k)
        {
            Path(leaves, index, start, k, proof);
            proof.Add(Subtree(leaves, start + k, count - k));
        }
        else
        {
            Path(leaves, index - k, start + k, count - k, proof);
            proof.Add(Subtree(leaves, start, k));
        }
    }

    private static void SubProof(IReadOnlyList<byte[]> leaves, int m, int start, int count, bool complete, List<byte[]> proof)
    {
        if (m == count)
        {
            if (!complete)
            {
                proof.Add(Subtree(leaves, start, count));
            }

            return;
        }

        int k = SplitPoint(count);
        if (m <= k)
        {
            SubProof(leaves, m, start, k, complete, proof);
            proof.Add(Subtree(leaves, start + k, count - k));
        }
        else
        {
            SubProof(leaves, m - k, start + k, count - k, false, proof);
            proof.Add(Subtree(leaves, start, k));
        }
    }

    /// <summary>The largest power of two smaller than <paramref name="n"/> (n ≥ 2).</summary>
    private static int SplitPoint(int n)
    {
        int k = 1;
        while (k << 1 < n)
        {
            k <<= 1;
        }

        return k;
    }
}
