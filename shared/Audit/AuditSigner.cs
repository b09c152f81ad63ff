using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Lepton.Audit;

/// <summary>
/// Signs tree heads with the platform's audit key (ECDSA P-256, SHA-256, DER signatures). The key id is the SHA-256 of
/// the public key (SubjectPublicKeyInfo), so anyone holding a head can check which key signed it and pin that key.
/// </summary>
public sealed partial class AuditSigner : IDisposable
{
    private readonly ECDsa _key;

    public AuditSigner(IOptions<AuditOptions> options, ILogger<AuditSigner> logger)
    {
        _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        if (options.Value.SigningKey is { Length: > 0 } pem)
        {
            _key.ImportFromPem(pem);
        }
        else
        {
            LogEphemeralKey(logger);
        }

        byte[] publicKey = _key.ExportSubjectPublicKeyInfo();
        PublicKey = Convert.ToBase64String(publicKey);
        KeyId = KeyIdOf(publicKey);
    }

    /// <summary>The public key, SubjectPublicKeyInfo in base64.</summary>
    public string PublicKey { get; }

    public string KeyId { get; }

    public string PublicKeyPem => _key.ExportSubjectPublicKeyInfoPem();

    public byte[] Sign(byte[] data) => _key.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);

    /// <summary>Checks a signature against a public key given as base64 SubjectPublicKeyInfo (the key the head names).</summary>
    public static bool Verify(string publicKey, byte[] data, byte[] signature)
    {
        try
        {
            using ECDsa key = ECDsa.Create();
            key.ImportSubjectPublicKeyInfo(Convert.FromBase64String(publicKey), out _);
            return key.VerifyData(data, signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        }
        catch (Exception e) when (e is CryptographicException or FormatException)
        {
            return false;
        }
    }

    public static string KeyIdOf(byte[] subjectPublicKeyInfo) => Convert.ToHexStringLower(SHA256.HashData(subjectPublicKeyInfo));

    public void Dispose() => _key.Dispose();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Lepton:Audit:SigningKey is not set: audit tree heads are signed with a key made for this process only")]
    private static partial void LogEphemeralKey(ILogger logger);
}
