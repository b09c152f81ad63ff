using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace Lepton.Ingestion;

/// <summary>
/// A set of 64-bit row hashes with open addressing: 8 bytes a row instead of HashSet's ~20, which keeps
/// duplicate detection over tens of millions of rows within the preprocessing memory budget.
/// Two different rows sharing a 64-bit hash is a 1-in-10^9 event at 100 million rows; such a row would be dropped as a duplicate.
/// </summary>
public sealed class RowHashSet
{
    private ulong[] _slots;
    private int _count;
    private bool _containsZero;

    /// <summary>Sized for <paramref name="expected"/> rows up front, so the table never has to grow (and briefly double) while in use.</summary>
    public RowHashSet(long expected = 0)
    {
        long wanted = Math.Max(1 << 16, expected * 4 / 3 + 1);
        _slots = new ulong[(int)Math.Min(1 << 30, System.Numerics.BitOperations.RoundUpToPowerOf2((ulong)wanted))];
    }

    public int Count => _count + (_containsZero ? 1 : 0);

    /// <summary>Adds the hash; false when it was already present.</summary>
    public bool Add(ulong hash)
    {
        if (hash == 0)
        {
            // Zero marks an empty slot, so it is tracked on its own.
            bool added = !_containsZero;
            _containsZero = true;
            return added;
        }

        if ((_count + 1) * 4L > _slots.Length * 3L)
        {
            Grow();
        }

        return Insert(_slots, hash, ref _count);
    }

    /// <summary>
    /// Asks the processor to fetch the slot where <paramref name="hash"/> belongs. The table is far larger than the caches,
    /// so each <see cref="Add"/> would otherwise wait on memory; prefetching a batch of rows first overlaps those waits.
    /// Only a hint: a prefetch never faults, so an address the garbage collector has since moved costs nothing.
    /// </summary>
    public unsafe void Prefetch(ulong hash)
    {
        if (Sse.IsSupported)
        {
            ulong[] slots = _slots;
            Sse.Prefetch0(Unsafe.AsPointer(ref slots[Slot(hash, slots.Length - 1)]));
        }
    }

    private static int Slot(ulong hash, int mask) => (int)(hash ^ (hash >> 32)) & mask;

    private static bool Insert(ulong[] slots, ulong hash, ref int count)
    {
        int mask = slots.Length - 1;
        int index = Slot(hash, mask);
        while (true)
        {
            ulong current = slots[index];
            if (current == 0)
            {
                slots[index] = hash;
                count++;
                return true;
            }

            if (current == hash)
            {
                return false;
            }

            index = (index + 1) & mask;
        }
    }

    private void Grow()
    {
        ulong[] bigger = new ulong[_slots.Length * 2];
        int count = 0;
        foreach (ulong hash in _slots)
        {
            if (hash != 0)
            {
                Insert(bigger, hash, ref count);
            }
        }

        _slots = bigger;
    }
}
