using System.Security.Cryptography;
using System.Text;
using Lepton.Collaborations.Contributions;

namespace Lepton.Federated;

/// <summary>
/// Pairwise masking (Bonawitz et al.): every pair of members derives a shared seed by elliptic-curve Diffie-Hellman
/// from its own private key and the other's public key; the member with the smaller id adds the pair's mask, the other
/// subtracts it, so all masks cancel in the sum of the round's participants and the aggregator learns only the sum.
/// Updates are quantized to fixed point in Z(2^32) so the cancellation is exact.
/// </summary>
public static class SecureAggregation
{
    /// <summary>Fixed-point scale: 2^20 (a resolution of about 1e-6); sums must stay within ±2,048.</summary>
    public const double Scale = 1 << 20;

    public const double Bound = 2047;

    public static (byte[] PrivateKey, string PublicKey) CreateKeyPair()
    {
        using var key = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        return (key.ExportPkcs8PrivateKey(), Convert.ToBase64String(key.ExportSubjectPublicKeyInfo()));
    }

    /// <summary>The seed a pair of members shares for one attempt of one round, from ECDH and HKDF.</summary>
    public static ulong PairSeed(byte[] privateKey, string otherPublicKey, string context)
    {
        using var mine = ECDiffieHellman.Create();
        mine.ImportPkcs8PrivateKey(privateKey, out _);
        using var other = ECDiffieHellman.Create();
        other.ImportSubjectPublicKeyInfo(Convert.FromBase64String(otherPublicKey), out _);
        byte[] secret = mine.DeriveRawSecretAgreement(other.PublicKey);
        byte[] seed = HKDF.DeriveKey(HashAlgorithmName.SHA256, secret, 8, info: Encoding.UTF8.GetBytes(context));
        return BitConverter.ToUInt64(seed);
    }

    public static uint[] Quantize(float[] values)
    {
        var q = new uint[values.Length];
        for (int j = 0; j < values.Length; j++)
        {
            q[j] = unchecked((uint)(int)Math.Round(Math.Clamp(values[j], -Bound, Bound) * Scale));
        }

        return q;
    }

    public static float[] Dequantize(uint[] sum) => sum.Select(v => (float)(unchecked((int)v) / Scale)).ToArray();

    /// <summary>
    /// Masks a quantized update of member <paramref name="self"/>: + mask(self, j) for every other participant j after
    /// it in ordinal order, − mask(j, self) for every one before it.
    /// </summary>
    public static uint[] Mask(uint[] quantized, string self, IReadOnlyDictionary<string, ulong> pairSeeds)
    {
        uint[] masked = (uint[])quantized.Clone();
        foreach ((string other, ulong seed) in pairSeeds)
        {
            var random = new SplitMix64(seed);
            bool add = string.CompareOrdinal(self, other) < 0;
            for (int j = 0; j < masked.Length; j++)
            {
                uint m = (uint)random.Next();
                masked[j] = unchecked(add ? masked[j] + m : masked[j] - m);
            }
        }

        return masked;
    }

    /// <summary>The sum in Z(2^32) of masked updates: the masks cancel when every participant's update is there.</summary>
    public static uint[] Sum(IEnumerable<uint[]> masked)
    {
        uint[]? sum = null;
        foreach (uint[] update in masked)
        {
            sum ??= new uint[update.Length];
            for (int j = 0; j < update.Length; j++)
            {
                sum[j] = unchecked(sum[j] + update[j]);
            }
        }

        return sum ?? [];
    }
}

/// <summary>
/// Rényi differential privacy of the Gaussian mechanism composed over rounds (Mironov 2017): each round with noise
/// multiplier σ (noise standard deviation σ·C on a sum of updates clipped to norm C, one update per member) is
/// (α, α/(2σ²))-RDP; T rounds compose to α·T/(2σ²); (ε, δ)-DP follows as min over α of RDP(α) + log(1/δ)/(α − 1).
/// Every member takes part in every round (no subsampling), so no amplification is claimed.
/// </summary>
public static class PrivacyAccountant
{
    private static readonly double[] Orders = [.. Enumerable.Range(0, 90).Select(i => 1.1 + i * 0.1), .. Enumerable.Range(10, 247).Select(i => (double)i)];

    public static double Rdp(double alpha, double noiseMultiplier, int rounds) => rounds * alpha / (2 * noiseMultiplier * noiseMultiplier);

    public static double Epsilon(double noiseMultiplier, int rounds, double delta) =>
        rounds == 0 ? 0 : Orders.Min(alpha => Rdp(alpha, noiseMultiplier, rounds) + Math.Log(1 / delta) / (alpha - 1));
}
