using System.Text;
using Lepton.Audit;

namespace Lepton.Tests.Unit.Audit;

public class MerkleTreeTests
{
    private static List<byte[]> Leaves(int n) => Enumerable.Range(0, n).Select(i => MerkleTree.LeafHash(Encoding.UTF8.GetBytes($"entry {i}"))).ToList();

    [Fact]
    public void Root_ThreeLeaves_MatchesTheDefinitionOfRfc6962()
    {
        List<byte[]> leaves = Leaves(3);

        byte[] expected = MerkleTree.NodeHash(MerkleTree.NodeHash(leaves[0], leaves[1]), leaves[2]);

        Assert.Equal(expected, MerkleTree.Root(leaves, 3));
    }

    [Fact]
    public void InclusionProof_EveryLeafOfEverySizeUpTo33_Verifies()
    {
        List<byte[]> leaves = Leaves(33);
        for (int size = 1; size <= 33; size++)
        {
            byte[] root = MerkleTree.Root(leaves, size);
            for (int index = 0; index < size; index++)
            {
                IReadOnlyList<byte[]> proof = MerkleTree.InclusionProof(leaves, index, size);

                Assert.True(MerkleTree.VerifyInclusion(leaves[index], index, size, proof, root), $"leaf {index} of {size}");
            }
        }
    }

    [Fact]
    public void InclusionProof_WrongLeafOrIndex_Fails()
    {
        List<byte[]> leaves = Leaves(10);
        byte[] root = MerkleTree.Root(leaves, 10);
        IReadOnlyList<byte[]> proof = MerkleTree.InclusionProof(leaves, 4, 10);

        Assert.False(MerkleTree.VerifyInclusion(leaves[5], 4, 10, proof, root));
        Assert.False(MerkleTree.VerifyInclusion(leaves[4], 5, 10, proof, root));
        Assert.False(MerkleTree.VerifyInclusion(leaves[4], 4, 10, proof.Take(proof.Count - 1).ToList(), root));
    }

    [Fact]
    public void ConsistencyProof_EveryPairOfSizesUpTo20_Verifies()
    {
        List<byte[]> leaves = Leaves(20);
        for (int size = 1; size <= 20; size++)
        {
            for (int previous = 1; previous <= size; previous++)
            {
                IReadOnlyList<byte[]> proof = MerkleTree.ConsistencyProof(leaves, previous, size);

                Assert.True(MerkleTree.VerifyConsistency(previous, size, MerkleTree.Root(leaves, previous), MerkleTree.Root(leaves, size), proof),
                    $"{previous} -> {size}");
            }
        }
    }

    [Fact]
    public void ConsistencyProof_EarlierEntryRewritten_Fails()
    {
        // Arrange: a head signed at 7 entries, then entry 3 rewritten and the log grown to 12
        List<byte[]> original = Leaves(12);
        byte[] signedRoot = MerkleTree.Root(original, 7);
        List<byte[]> rewritten = [.. original];
        rewritten[3] = MerkleTree.LeafHash(Encoding.UTF8.GetBytes("forged"));

        // Act
        IReadOnlyList<byte[]> proof = MerkleTree.ConsistencyProof(rewritten, 7, 12);

        // Assert
        Assert.False(MerkleTree.VerifyConsistency(7, 12, signedRoot, MerkleTree.Root(rewritten, 12), proof));
    }
}
